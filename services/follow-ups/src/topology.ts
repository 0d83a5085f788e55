import type { TaskOutcome } from '@churn/contracts';
import {
  type CustomerValueEvent,
  type FollowUpState,
  followUpDueAt,
  type Policy,
  scheduleFollowUps,
  tickValue,
  updateOwn,
  updateValue,
  valueOfStateDueAt,
  type WithValue,
} from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-follow-ups';

export type FollowUpsState = WithValue<FollowUpState>;

/**
 * Runs the follow-up program: a FOLLOW_UP task when a customer's cadence has passed,
 * PROGRAM_NOT_FOLLOWED when no outcome is recorded within the grace period, at-risk
 * dialogues with a deadline and DIALOGUE_OVERDUE to the executive sponsor. Driven by
 * the customer's value (kept from the raw events), task outcomes and the clock.
 */
export function followUpsTopology(policy: Policy): Topology<FollowUpsState> {
  return {
    name: SERVICE,
    // 2: the service keeps the customer's value itself.
    stateVersion: 2,
    inputs: ['customer.profiles.v1', 'billing.invoices.v1', 'customer.surveys.v1', 'contact-center.task-outcomes.v1'],
    outputs: ['contact-center.tasks.v1', 'churn.alerts.v1'],
    process: (record, state, now) => {
      const ctx = { now, policy };
      if (record.topic === 'contact-center.task-outcomes.v1') {
        return updateOwn(record.value as TaskOutcome, state, scheduleFollowUps, ctx);
      }
      return updateValue(record.value as CustomerValueEvent, state, scheduleFollowUps, ctx);
    },
    tick: (key, state, at) => {
      const ctx = { now: at, policy };
      const valued = tickValue(key, at, state, scheduleFollowUps, ctx);
      const ticked = updateOwn({ type: 'Tick', at }, valued.state, scheduleFollowUps, ctx);
      return { state: ticked.state, emit: [...valued.emit, ...ticked.emit] };
    },
    dueAt: (_key, state) => Math.min(valueOfStateDueAt(state), followUpDueAt(state.own, policy)),
  };
}
