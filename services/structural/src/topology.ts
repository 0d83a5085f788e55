import type { CancellationRequested } from '@churn/contracts';
import { detectStructuralIssues, type Policy, type StructuralIssueState } from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-structural';
const ROUTE = 'churn-structural-route';
/** Cancellations with a structural reason, keyed by reason, in one partition so one instance counts each reason. */
export const BY_REASON_TOPIC = 'churn-structural.cancellations-by-reason';

/**
 * Cancellations arrive keyed by customer; this stage re-keys those whose reason can
 * be structural (PRODUCT_GAP, SERVICE_ISSUE) by reason.
 */
export function structuralRouteTopology(policy: Policy): Topology<undefined> {
  return {
    name: ROUTE,
    inputs: ['customer.cancellations.v1'],
    outputs: [BY_REASON_TOPIC],
    internalTopics: [{ topic: BY_REASON_TOPIC, record: 'CancellationRequested', partitions: 1 }],
    process: (record) => {
      const cancellation = record.value as CancellationRequested;
      const structural = policy.tables.structuralReasons.has(cancellation.reason);
      return {
        state: undefined,
        emit: structural ? [{ topic: BY_REASON_TOPIC, key: cancellation.reason, value: cancellation }] : [],
      };
    },
  };
}

/**
 * Counts structural cancellation reasons across customers in a sliding window and
 * alerts management once per window when a reason reaches the threshold.
 */
export function structuralIssuesTopology(policy: Policy): Topology<StructuralIssueState> {
  return {
    name: SERVICE,
    inputs: [BY_REASON_TOPIC],
    outputs: ['churn.alerts.v1'],
    internalTopics: [{ topic: BY_REASON_TOPIC, record: 'CancellationRequested', partitions: 1 }],
    process: (record, state, now) =>
      detectStructuralIssues(record.value as CancellationRequested, state, { now, policy }),
  };
}
