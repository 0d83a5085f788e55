import { type FollowUpEvent, type FollowUpState, type Policy, scheduleFollowUps } from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-follow-ups';

/**
 * Runs the follow-up program: a FOLLOW_UP task when a customer's cadence has passed,
 * PROGRAM_NOT_FOLLOWED when no outcome is recorded within the grace period, at-risk
 * dialogues with a deadline and DIALOGUE_OVERDUE to the executive sponsor. Driven by
 * CustomerValue snapshots, task outcomes and the clock.
 */
export function followUpsTopology(policy: Policy): Topology<FollowUpState> {
  return {
    name: SERVICE,
    inputs: ['churn.customer-value.v1', 'contact-center.task-outcomes.v1'],
    outputs: ['contact-center.tasks.v1', 'churn.alerts.v1'],
    process: (record, state, now) => scheduleFollowUps(record.value as FollowUpEvent, state, { now, policy }),
    tick: (_key, state, at) => scheduleFollowUps({ type: 'Tick', at }, state, { now: at, policy }),
  };
}
