/**
 * The shape every processor has: `(event, state, ctx) => { state, emit }`. A runner (the
 * Kafka runner, the in-process runner, the test driver) loads the state, calls the
 * processor, then writes the new state and the emitted records. Processors never read a
 * clock: time arrives as `ctx.now`.
 */
import type {
  ChurnAlert,
  ChurnDecision,
  ContactTask,
  CustomerValue,
  LearningEvent,
  LearningSnapshot,
} from '@churn/contracts';
import type { Policy } from './policy.ts';

export interface ProcessorContext {
  /**
   * The time of the record being processed, epoch milliseconds. Runners set it to the
   * record's event time (the Kafka record timestamp, a Tick's `at`), so that a replay of
   * the same records gives byte-identical outputs.
   */
  readonly now: number;
  readonly policy: Policy;
  /**
   * What the pipeline has learned as of the record's midnight (the learning snapshot of
   * that day, the same for every partition), when the policy learns: save rates,
   * cohort responses and hazards. Without one, decisions use the policy's priors.
   */
  readonly learned?: LearningSnapshot | null | undefined;
}

/** A record to write: the topic, the key (the customerId; the reason for STRUCTURAL_ISSUE alerts) and the value. */
export type Emitted =
  | { readonly topic: 'churn.customer-value.v1'; readonly key: string; readonly value: CustomerValue }
  | { readonly topic: 'churn.decisions.v1'; readonly key: string; readonly value: ChurnDecision }
  | { readonly topic: 'contact-center.tasks.v1'; readonly key: string; readonly value: ContactTask }
  | { readonly topic: 'churn.alerts.v1'; readonly key: string; readonly value: ChurnAlert }
  | { readonly topic: 'churn.decisions.shadow.v1'; readonly key: string; readonly value: ChurnDecision }
  | { readonly topic: 'churn-learning.events'; readonly key: string; readonly value: LearningEvent }
  | {
      readonly topic: 'churn-learning.snapshots';
      readonly key: string;
      readonly value: LearningSnapshot;
      /** The decision partition a snapshot is for. */
      readonly partition?: number;
    };

export interface ProcessorResult<S> {
  readonly state: S;
  readonly emit: readonly Emitted[];
}

/** A pure processor: the same event, state and context always give the same result. */
export type Processor<E, S> = (event: E, state: S | undefined, ctx: ProcessorContext) => ProcessorResult<S>;

/** An explicit clock input: "it is now `at`". Runners send it periodically; replays send the same ticks. */
export interface Tick {
  readonly type: 'Tick';
  /** Epoch milliseconds. */
  readonly at: number;
}

export { DAY_MS } from './time.ts';
export const NO_EMIT: readonly Emitted[] = Object.freeze([]);

/** Adds an id to a bounded list of recently seen ids (newest last), dropping the oldest. */
export function remember<T>(recent: readonly T[], id: T, limit: number): T[] {
  const next = recent.length >= limit ? recent.slice(recent.length - limit + 1) : recent.slice();
  next.push(id);
  return next;
}

export function isTick(event: unknown): event is Tick {
  return (event as Tick).type === 'Tick';
}

export function isCustomerValue(event: unknown): event is CustomerValue {
  return (event as CustomerValue).revenue12m !== undefined && (event as CustomerValue).tier !== undefined;
}
