import { type OutcomeEvent, type OutcomeLedger, type Policy, trackOutcomes } from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-outcomes';

/**
 * Tracks what came of retention attempts: a WIN_BACK decision opens its retention
 * task, a contact-center outcome closes it and counts towards the observed save rate
 * of its reason and offer. The ledger is kept per customer.
 */
export function outcomesTopology(policy: Policy): Topology<OutcomeLedger> {
  return {
    name: SERVICE,
    inputs: ['churn.decisions.v1', 'contact-center.task-outcomes.v1'],
    outputs: [],
    process: (record, state, now) => trackOutcomes(record.value as OutcomeEvent, state, { now, policy }),
  };
}
