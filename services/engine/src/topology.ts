import type {
  CancellationRequested,
  ChurnDecision,
  InvoiceEvent,
  LearningSnapshot,
  SurveyResult,
  TaskOutcome,
} from '@churn/contracts';
import {
  type CancellationState,
  type CustomerValueEvent,
  type CustomerValueState,
  decideOnCancellation,
  type Emitted,
  type FollowUpState,
  followUpDueAt,
  keepCustomerValue,
  LEARNING_EVENTS_TOPIC,
  LEARNING_SNAPSHOTS_TOPIC,
  learningMark,
  type Policy,
  type ProcessorContext,
  scheduleFollowUps,
  valueDueAt,
} from '@churn/domain';
import type { OutputRecord, Topology } from '@churn/runtime';
import { LEARNING_TOPICS, learningTopology } from '@churn/service-decisions';
import { routeSignal, type Signals } from '@churn/service-signals';
import {
  BY_REASON_INTERNAL_TOPIC,
  BY_REASON_TOPIC,
  structuralCancellationOf,
  structuralIssuesTopology,
  structuralMarks,
} from '@churn/service-structural';
import { engineStateCodec } from './state-codec.ts';

export const SERVICE = 'churn-engine';

/**
 * Everything the pipeline keeps of one customer, once: the value, and the state of each
 * processor that reads it. A part is undefined until its first event.
 */
export interface EngineState {
  readonly value?: CustomerValueState | undefined;
  readonly decisions?: CancellationState | undefined;
  readonly signals?: Signals | undefined;
  readonly followUps?: FollowUpState | undefined;
}

const EMPTY: EngineState = {};

/** What one step of the engine produced: the new state and the records in the order they were made. */
interface Step {
  state: EngineState;
  emit: Emitted[];
}

/**
 * Runs every customer-scoped processor of the pipeline on one read of each record and
 * one state per customer: the customer's value is computed once, published, and handed
 * to the decisions, the survey and invoice signals and the follow-up program; decisions
 * whose reason can be structural are re-keyed by reason for the structural count, in the
 * same transaction. Its outputs are the outputs of the customer-value, decisions,
 * signals, follow-ups and structural-route services, record for record, ids included.
 */
export function engineTopology(policy: Policy): Topology<EngineState> {
  const learns = policy.learning.enabled;
  const shadow = policy.tables.shadow !== null;

  /** Hands the value's snapshots to each processor that reads them. */
  const join = (step: Step, snapshots: readonly Emitted[], ctx: ProcessorContext): void => {
    for (const out of snapshots) {
      step.emit.push(out);
      if (out.topic !== 'churn.customer-value.v1') continue;
      const decided = decideOnCancellation(out.value, step.state.decisions, ctx);
      const signalled = routeSignal(out.value, step.state.signals, ctx);
      const followed = scheduleFollowUps(out.value, step.state.followUps, ctx);
      step.state = {
        ...step.state,
        decisions: decided.state,
        signals: signalled.state,
        followUps: followed.state,
      };
      step.emit.push(...decided.emit, ...signalled.emit, ...followed.emit);
    }
  };

  const byValue = (event: CustomerValueEvent, step: Step, ctx: ProcessorContext): void => {
    const valued = keepCustomerValue(event, step.state.value, ctx);
    if (valued.state !== step.state.value) step.state = { ...step.state, value: valued.state };
    join(step, valued.emit, ctx);
  };

  /**
   * The structural route: after each decided cancellation with a reason that can be
   * structural, the cancellation keyed by reason. Most records decide nothing: their
   * records go out as they are.
   */
  const routed = (emit: readonly Emitted[]): readonly OutputRecord[] => {
    if (!emit.some((record) => record.topic === 'churn.decisions.v1')) return emit;
    const out: OutputRecord[] = [];
    for (const record of emit) {
      out.push(record);
      if (record.topic !== 'churn.decisions.v1') continue;
      const cancellation = structuralCancellationOf(record.value as ChurnDecision, policy);
      if (cancellation !== null) out.push(cancellation);
    }
    return out;
  };

  const finish = (before: EngineState | undefined, step: Step) => {
    const s = step.state;
    const gone =
      s.value === undefined && s.decisions === undefined && s.signals === undefined && s.followUps === undefined;
    return { state: gone ? undefined : s === EMPTY ? before : s, emit: routed(step.emit) };
  };

  return {
    name: SERVICE,
    inputs: [
      'customer.profiles.v1',
      'billing.invoices.v1',
      'customer.surveys.v1',
      'customer.cancellations.v1',
      'contact-center.task-outcomes.v1',
      ...(learns ? [LEARNING_SNAPSHOTS_TOPIC] : []),
    ],
    outputs: [
      'churn.customer-value.v1',
      'churn.decisions.v1',
      'contact-center.tasks.v1',
      'churn.alerts.v1',
      ...(shadow ? ['churn.decisions.shadow.v1'] : []),
      ...(learns ? [LEARNING_EVENTS_TOPIC] : []),
      BY_REASON_TOPIC,
    ],
    internalTopics: [...(learns ? LEARNING_TOPICS : []), BY_REASON_INTERNAL_TOPIC],
    ...(learns ? { shared: { topic: LEARNING_SNAPSHOTS_TOPIC, gates: ['customer.cancellations.v1'] } } : {}),
    stateCodec: engineStateCodec,
    process: (record, state, now, shared) => {
      const ctx: ProcessorContext = { now, policy, learned: (shared as LearningSnapshot | undefined) ?? null };
      const step: Step = { state: state ?? EMPTY, emit: [] };
      switch (record.topic) {
        case 'customer.cancellations.v1': {
          const decided = decideOnCancellation(record.value as CancellationRequested, step.state.decisions, ctx);
          step.state = { ...step.state, decisions: decided.state };
          step.emit.push(...decided.emit);
          break;
        }
        case 'contact-center.task-outcomes.v1': {
          const outcome = record.value as TaskOutcome;
          if (learns) {
            const decided = decideOnCancellation(outcome, step.state.decisions, ctx);
            step.state = { ...step.state, decisions: decided.state };
            step.emit.push(...decided.emit);
          }
          const followed = scheduleFollowUps(outcome, step.state.followUps, ctx);
          step.state = { ...step.state, followUps: followed.state };
          step.emit.push(...followed.emit);
          break;
        }
        default: {
          byValue(record.value as CustomerValueEvent, step, ctx);
          if (record.topic !== 'customer.profiles.v1') {
            const signalled = routeSignal(record.value as SurveyResult | InvoiceEvent, step.state.signals, ctx);
            step.state = { ...step.state, signals: signalled.state };
            step.emit.push(...signalled.emit);
          }
        }
      }
      return finish(state, step);
    },
    tick: (key, state, at) => {
      const ctx: ProcessorContext = { now: at, policy };
      const step: Step = { state, emit: [] };
      if (state.value !== undefined) byValue({ type: 'Tick', at, customerId: key }, step, ctx);
      const followed = scheduleFollowUps({ type: 'Tick', at }, step.state.followUps, ctx);
      if (followed.state !== step.state.followUps) step.state = { ...step.state, followUps: followed.state };
      step.emit.push(...followed.emit);
      return finish(state, step);
    },
    dueAt: (_key, state) => Math.min(valueDueAt(state.value), followUpDueAt(state.followUps, policy)),
    onClock: (partition, partitions, at) => [
      ...(learns ? [learningMark(partition, partitions, at)] : []),
      ...structuralMarks(policy, partition, partitions, at),
    ],
  };
}

/**
 * What the engine service runs: the engine (one consumer group over every
 * customer-scoped input), the learning stage when the policy learns, and the structural
 * count; the last two are single-partition stages over the engine's internal topics.
 */
export function engineTopologies(policy: Policy): Topology<unknown>[] {
  return [
    engineTopology(policy),
    ...(policy.learning.enabled ? [learningTopology()] : []),
    structuralIssuesTopology(policy),
  ] as Topology<unknown>[];
}
