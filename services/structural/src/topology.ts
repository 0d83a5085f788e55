import type { CancellationRequested, ChurnDecision } from '@churn/contracts';
import { detectStructuralIssues, type Policy, type StructuralIssueState, structuralMark } from '@churn/domain';
import type { OutputRecord, Topology } from '@churn/runtime';

export const SERVICE = 'churn-structural';
const ROUTE = 'churn-structural-route';
/** Cancellations with a structural reason, keyed by reason, in one partition so one instance counts each reason. */
export const BY_REASON_TOPIC = 'churn-structural.cancellations-by-reason';

/**
 * Counts the cancellations the decision service accepted (one decision each; a
 * cancellation it refused, for an unknown customer say, counts nowhere). Decisions
 * arrive keyed by customer; this stage re-keys those whose reason can be structural
 * (PRODUCT_GAP, SERVICE_ISSUE) by reason, as the cancellation they decided, without its
 * free text.
 */
export function structuralRouteTopology(policy: Policy): Topology<undefined> {
  return {
    name: ROUTE,
    inputs: ['churn.decisions.v1'],
    outputs: [BY_REASON_TOPIC],
    internalTopics: [BY_REASON_INTERNAL_TOPIC],
    process: (record) => {
      const routed = structuralCancellationOf(record.value as ChurnDecision, policy);
      return { state: undefined, emit: routed === null ? [] : [routed] };
    },
    // At each midnight a partition passes, a watermark per structural reason: the
    // single-partition count below then takes cancellations from every partition in
    // event-time order, however they interleave on the way.
    onClock: (partition, partitions, at) => structuralMarks(policy, partition, partitions, at),
  };
}

/** The by-reason topic: one partition, so that one instance counts each reason. */
export const BY_REASON_INTERNAL_TOPIC = {
  topic: BY_REASON_TOPIC,
  record: 'CancellationRequested',
  partitions: 1,
} as const;

/**
 * The cancellation a decision decided, keyed by its reason, when that reason can be
 * structural (without its free text); null for any other reason.
 */
export function structuralCancellationOf(decision: ChurnDecision, policy: Policy): OutputRecord | null {
  const reason = decision.reason ?? null;
  if (reason === null || !policy.tables.structuralReasons.has(reason)) return null;
  const cancellation: CancellationRequested = {
    eventId: decision.causationId,
    occurredAt: decision.occurredAt,
    cancellationId: decision.cancellationId,
    customerId: decision.customerId,
    subscriptionId: null,
    effectiveAt: null,
    channel: 'OTHER',
    reason,
    reasonText: null,
  };
  return { topic: BY_REASON_TOPIC, key: reason, value: cancellation };
}

/** A partition's watermark per structural reason at the midnight `at` (see `structuralRouteTopology`). */
export function structuralMarks(policy: Policy, partition: number, partitions: number, at: number): OutputRecord[] {
  return [...policy.tables.structuralReasons].map((reason) => ({
    topic: BY_REASON_TOPIC,
    key: reason,
    value: structuralMark(reason, partition, partitions, at),
  }));
}

/**
 * Counts structural cancellation reasons across customers in a sliding window and
 * alerts management once per window when a reason reaches the threshold.
 */
export function structuralIssuesTopology(policy: Policy): Topology<StructuralIssueState> {
  return {
    name: SERVICE,
    // 2: cancellations wait for the watermarks of every source partition.
    // 3: the changelog has the input's one partition (it was created with
    // TOPIC_PARTITIONS); a new changelog, rebuilt from the input, rather than a refusal
    // to start on the old one.
    stateVersion: 3,
    inputs: [BY_REASON_TOPIC],
    outputs: ['churn.alerts.v1'],
    internalTopics: [BY_REASON_INTERNAL_TOPIC],
    process: (record, state, now) =>
      detectStructuralIssues(record.value as CancellationRequested, state, { now, policy }),
  };
}
