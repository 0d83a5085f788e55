import { type CancellationEvent, type CancellationState, decideOnCancellation, type Policy } from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-decisions';

/**
 * Decides on each cancellation: win-back with the offer worth most, or a graceful
 * offboarding, with the contact tasks and alerts that follow. It joins each
 * cancellation with the customer's latest CustomerValue snapshot (same key, same
 * partition), which it keeps as its state.
 */
export function decisionsTopology(policy: Policy): Topology<CancellationState> {
  return {
    name: SERVICE,
    inputs: ['churn.customer-value.v1', 'customer.cancellations.v1'],
    outputs: ['churn.decisions.v1', 'contact-center.tasks.v1', 'churn.alerts.v1'],
    process: (record, state, now) => decideOnCancellation(record.value as CancellationEvent, state, { now, policy }),
  };
}
