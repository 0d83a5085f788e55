import type { CancellationRequested, LearningEvent, LearningSnapshot, TaskOutcome } from '@churn/contracts';
import {
  type CancellationState,
  type CustomerValueEvent,
  decideOnCancellation,
  LEARNING_EVENTS_TOPIC,
  LEARNING_SNAPSHOTS_TOPIC,
  type LearningState,
  learnAcrossPartitions,
  learningMark,
  type Policy,
  tickValue,
  updateOwn,
  updateValue,
  valueOfStateDueAt,
  type WithValue,
} from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-decisions';
/** The learning stage: one partition, across every decision partition. */
export const LEARNING_SERVICE = 'churn-learning';

export type DecisionsState = WithValue<CancellationState>;

export const LEARNING_TOPICS = [
  { topic: LEARNING_EVENTS_TOPIC, record: 'LearningEvent' as const, partitions: 1 },
  { topic: LEARNING_SNAPSHOTS_TOPIC, record: 'LearningSnapshot' as const, partitions: 'co-partitioned' as const },
];

/**
 * Decides on each cancellation: win-back with the offer worth most, or a graceful
 * offboarding, with the contact tasks and alerts that follow. It keeps each customer's
 * value from the same raw events as the customer-value service, so a cancellation is
 * always decided on the value of everything the customer did before it.
 *
 * When the policy learns, it also reads the outcomes of its retention tasks and tells the
 * learning stage (below) what it learns of each customer, with a watermark at every
 * midnight a partition passes; a cancellation waits for the learning snapshot of its day.
 */
export function decisionsTopology(policy: Policy): Topology<DecisionsState> {
  const learns = policy.learning.enabled;
  return {
    name: SERVICE,
    // 2: the service keeps the customer's value itself.
    stateVersion: 2,
    inputs: [
      'customer.profiles.v1',
      'billing.invoices.v1',
      'customer.surveys.v1',
      'customer.cancellations.v1',
      ...(learns ? (['contact-center.task-outcomes.v1', LEARNING_SNAPSHOTS_TOPIC] as const) : []),
    ],
    outputs: [
      'churn.decisions.v1',
      'contact-center.tasks.v1',
      'churn.alerts.v1',
      ...(policy.tables.shadow !== null ? ['churn.decisions.shadow.v1'] : []),
      ...(learns ? [LEARNING_EVENTS_TOPIC] : []),
    ],
    ...(learns
      ? {
          internalTopics: LEARNING_TOPICS,
          shared: { topic: LEARNING_SNAPSHOTS_TOPIC, gates: ['customer.cancellations.v1'] },
          onClock: (partition: number, partitions: number, at: number) => [learningMark(partition, partitions, at)],
        }
      : {}),
    process: (record, state, now, shared) => {
      const ctx = { now, policy, learned: (shared as LearningSnapshot | undefined) ?? null };
      if (record.topic === 'customer.cancellations.v1' || record.topic === 'contact-center.task-outcomes.v1') {
        return updateOwn(record.value as CancellationRequested | TaskOutcome, state, decideOnCancellation, ctx);
      }
      return updateValue(record.value as CustomerValueEvent, state, decideOnCancellation, ctx);
    },
    tick: (key, state, at) => tickValue(key, at, state, decideOnCancellation, { now: at, policy }),
    dueAt: (_key, state) => valueOfStateDueAt(state),
  };
}

/**
 * The learning stage: takes every decision partition's learning events in event-time
 * order, once every partition has passed them, and publishes at each midnight one
 * learning snapshot per decision partition (docs/policy.md, "Outcomes and learning").
 */
export function learningTopology(): Topology<LearningState> {
  return {
    name: LEARNING_SERVICE,
    inputs: [LEARNING_EVENTS_TOPIC],
    outputs: [LEARNING_SNAPSHOTS_TOPIC],
    internalTopics: LEARNING_TOPICS,
    process: (record, state) => learnAcrossPartitions(record.value as LearningEvent, state),
  };
}

/** What the decision service runs: the decisions, and the learning stage when the policy learns. */
export function decisionsTopologies(policy: Policy): Topology<unknown>[] {
  const topologies: Topology<unknown>[] = [decisionsTopology(policy) as Topology<unknown>];
  if (policy.learning.enabled) topologies.push(learningTopology() as Topology<unknown>);
  return topologies;
}
