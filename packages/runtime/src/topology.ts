/**
 * A topology is what one service does: the topics it reads, a processor that turns
 * each record and the state of its key into a new state and output records, and an
 * optional clock step. The Kafka runner, the in-process runner and the test driver all
 * run the same topologies.
 */
import type { RecordName } from '@churn/contracts';

export interface InputRecord {
  /** A contract topic, or one of the topology's internal topics. */
  readonly topic: string;
  /** The record key: the customerId on customer-scoped topics. */
  readonly key: string;
  readonly value: unknown;
}

export interface OutputRecord {
  readonly topic: string;
  readonly key: string;
  readonly value: unknown;
  /** The partition to write to, for records meant for one partition each (a snapshot per partition); else by key. */
  readonly partition?: number;
}

export interface StepResult<S> {
  readonly state: S | undefined;
  readonly emit: readonly OutputRecord[];
}

export interface Topology<S = unknown> {
  /** Service name: consumer group, changelog topic and transactional ids derive from it. */
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /**
   * Topics outside the contracts that this topology writes or reads to re-key records
   * (for state kept per reason rather than per customer). Each carries a contract
   * record, is created with its own partition count, and is not keyed by customerId.
   */
  readonly internalTopics?: readonly InternalTopic[];
  /**
   * Version of the state's shape. A new version is a new consumer group and changelog
   * (`<name>-v<n>`): the service rebuilds its state from its inputs rather than reading
   * state it no longer understands. Outputs it writes again carry the same event ids.
   * @default 1
   */
  readonly stateVersion?: number;
  /**
   * How a key's state is written to the changelog and read back. Without it, JSON. A
   * codec that can read what an earlier writer wrote (Avro schema resolution) lets the
   * state's shape change without a new `stateVersion`.
   */
  readonly stateCodec?: StateCodec<S>;
  /**
   * A topic every partition of the topology receives its own copy of (one record per
   * partition, such as the learning snapshot of each midnight): the runner keeps the
   * latest record of it per partition, beside the partition's clock, and hands it to
   * `process` instead of processing it. A record of a `gates` topic at time t waits until
   * the shared record of t's midnight is there (its occurredAt at or after that midnight),
   * so that it is processed with the same shared record in every deployment.
   */
  readonly shared?: { readonly topic: string; readonly gates: readonly string[] };
  /**
   * Handles one input record. `now` is the record's event time (see {@link eventTimeOf}),
   * so that a replay gives the same outputs as the live run; `shared` is the partition's
   * latest record of the shared topic, if the topology has one.
   */
  process(record: InputRecord, state: S | undefined, now: number, shared?: unknown): StepResult<S>;
  /**
   * Advances one key's state to the clock `at` (due follow-ups, overdue dialogues).
   * Runners call it for every key they hold, on a wall-clock interval (Kafka) or at
   * explicit times (replay `--until`).
   */
  tick?(key: string, state: S, at: number): StepResult<S>;
  /**
   * The earliest clock time at which `tick` can change the key's state or emit anything
   * (Infinity: not before another record changes the state). Runners then tick only the
   * keys that are due instead of every key at every midnight. Without it every key is
   * ticked. It must never be later than the first tick that does something.
   */
  dueAt?(key: string, state: S): number;
  /**
   * Called once per input partition at every midnight its clock passes, after `tick`,
   * and at the midnight the partition's clock starts from (its first record's), with the
   * partition and the input's partition count: what it returns goes out in the same
   * transaction (watermarks for a stage that merges partitions). The in-process runner,
   * one partition, calls it with partition 0 of 1.
   */
  onClock?(partition: number, partitions: number, at: number): readonly OutputRecord[];
}

/** Bytes of a key's state in the changelog, and back. */
export interface StateCodec<S> {
  encode(state: S): Buffer;
  decode(bytes: Buffer): S;
}

/** The state codec of a topology without one: JSON text. */
export const JSON_STATE_CODEC: StateCodec<unknown> = {
  encode: (state) => Buffer.from(JSON.stringify(state)),
  decode: (bytes) => JSON.parse(bytes.toString('utf8')),
};

export interface InternalTopic {
  readonly topic: string;
  readonly record: RecordName;
  /** A number, or `co-partitioned`: as many as the customer-scoped topics (`customer.profiles.v1`, else TOPIC_PARTITIONS). */
  readonly partitions: number | 'co-partitioned';
}

/** Event time of a contract record: `occurredAt`, or `asOf` for a CustomerValue snapshot. */
export function eventTimeOf(value: unknown): number {
  const v = value as { occurredAt?: unknown; asOf?: unknown };
  if (typeof v.occurredAt === 'number') return v.occurredAt;
  if (typeof v.asOf === 'number') return v.asOf;
  throw new TypeError('record has neither occurredAt nor asOf');
}

/** The customerId a record is about, if it has one. */
export function customerIdOf(value: unknown): string | null {
  const id = (value as { customerId?: unknown }).customerId;
  return typeof id === 'string' ? id : null;
}
