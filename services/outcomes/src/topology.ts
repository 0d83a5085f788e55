import { type OutcomeEvent, type OutcomeLedger, type Policy, trackOutcomes } from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-outcomes';

/**
 * Tracks what came of retention attempts: a WIN_BACK decision opens its retention
 * task, a contact-center outcome closes it and counts towards the save tally of its
 * reason and offer. The ledger is kept per customer, as state only: nothing reads the
 * tallies yet, and decisions use the policy's prior probabilities.
 */
export function outcomesTopology(policy: Policy): Topology<OutcomeLedger> {
  return {
    name: SERVICE,
    inputs: ['churn.decisions.v1', 'contact-center.task-outcomes.v1'],
    outputs: [],
    process: (record, state, now) => trackOutcomes(record.value as OutcomeEvent, state, { now, policy }),
  };
}
