import type { CancellationRequested } from '@churn/contracts';
import {
  type CancellationState,
  type CustomerValueEvent,
  decideOnCancellation,
  type Policy,
  tickValue,
  updateOwn,
  updateValue,
  valueOfStateDueAt,
  type WithValue,
} from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-decisions';

export type DecisionsState = WithValue<CancellationState>;

/**
 * Decides on each cancellation: win-back with the offer worth most, or a graceful
 * offboarding, with the contact tasks and alerts that follow. It keeps each customer's
 * value from the same raw events as the customer-value service, so a cancellation is
 * always decided on the value of everything the customer did before it.
 */
export function decisionsTopology(policy: Policy): Topology<DecisionsState> {
  return {
    name: SERVICE,
    // 2: the service keeps the customer's value itself.
    stateVersion: 2,
    inputs: ['customer.profiles.v1', 'billing.invoices.v1', 'customer.surveys.v1', 'customer.cancellations.v1'],
    outputs: ['churn.decisions.v1', 'contact-center.tasks.v1', 'churn.alerts.v1'],
    process: (record, state, now) => {
      const ctx = { now, policy };
      if (record.topic === 'customer.cancellations.v1') {
        return updateOwn(record.value as CancellationRequested, state, decideOnCancellation, ctx);
      }
      return updateValue(record.value as CustomerValueEvent, state, decideOnCancellation, ctx);
    },
    tick: (key, state, at) => tickValue(key, at, state, decideOnCancellation, { now: at, policy }),
    dueAt: (_key, state) => valueOfStateDueAt(state),
  };
}
