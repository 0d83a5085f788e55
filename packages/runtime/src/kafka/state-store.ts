/**
 * A partition's state store: each key's state in memory, the index of when each key's
 * clock step is due, the partition's clock and its latest shared record, all backed by
 * the partition of a compacted changelog topic (`<group>-state-changelog`, partition p
 * holds the state of input partition p). Keys' states are written with the topology's
 * state codec (JSON by default); the clock and the shared record under reserved keys,
 * as JSON.
 */
import type { Admin, Kafka, Message } from 'kafkajs';
import type { StateCodec } from '../topology.ts';
import { DueIndex } from './due-index.ts';
import type { CommittedState, Transaction } from './transaction.ts';

export const CHANGELOG_SUFFIX = '-state-changelog';
/** Changelog key of a partition's clock (stream time of the last clock step). */
export const CLOCK_KEY = '\u0000churn.clock';
/** Changelog key of a partition's latest record of the topology's shared topic. */
export const SHARED_KEY = '\u0000churn.shared';

export class StateStore<S> implements CommittedState<S> {
  readonly partition: number;
  readonly states = new Map<string, S>();
  /** When each key's clock step is next due (the topology's dueAt), for the ticks. */
  readonly due = new DueIndex();
  clock: number | null = null;
  shared: unknown;
  readonly #codec: StateCodec<S>;
  readonly changelog: string;
  /** A key's due time; null when the topology has no tick (nothing to index). */
  readonly #dueOf: ((key: string, state: S | undefined) => number) | null;

  constructor(
    partition: number,
    codec: StateCodec<S>,
    changelog: string,
    dueOf: ((key: string, state: S | undefined) => number) | null,
  ) {
    this.partition = partition;
    this.#codec = codec;
    this.changelog = changelog;
    this.#dueOf = dueOf;
  }

  get size(): number {
    return this.states.size;
  }

  /** Reads one changelog record back into the store; returns whether it was a key's state. */
  restoreRecord(key: string | undefined, value: Buffer | null): boolean {
    if (key === undefined) return false;
    if (key === SHARED_KEY) {
      this.shared = value === null ? undefined : JSON.parse(value.toString('utf8'));
      return false;
    }
    if (key === CLOCK_KEY) {
      this.clock = value === null ? null : (JSON.parse(value.toString('utf8')) as { at: number }).at;
      return false;
    }
    if (value === null) this.states.delete(key);
    else this.states.set(key, this.#codec.decode(value));
    return true;
  }

  /** Indexes every restored key's due time. */
  indexAll(): void {
    for (const [key, state] of this.states) this.#index(key, state);
  }

  /** The changelog records of a transaction's state changes (and clock, and shared record), for its partition. */
  changelogOf(txn: Transaction<S>): Message[] {
    const records: Message[] = [];
    for (const [key, state] of txn.changes) {
      records.push({
        key,
        value: state === undefined ? null : this.#codec.encode(state),
        partition: this.partition,
      });
    }
    if (txn.shared !== this.shared) {
      records.push({
        key: SHARED_KEY,
        value: txn.shared === undefined ? null : Buffer.from(JSON.stringify(txn.shared)),
        partition: this.partition,
      });
    }
    if (txn.clock !== this.clock && txn.clock !== null) {
      records.push({
        key: CLOCK_KEY,
        value: Buffer.from(JSON.stringify({ at: txn.clock })),
        partition: this.partition,
      });
    }
    return records;
  }

  /** Stages a transaction's changelog records into it, before it commits. */
  stageChangelog(txn: Transaction<S>): void {
    for (const message of this.changelogOf(txn)) txn.push(this.changelog, message);
  }

  /** Takes a committed transaction's state changes, clock and shared record. */
  apply(txn: Transaction<S>): void {
    for (const [key, state] of txn.changes) {
      if (state === undefined) this.states.delete(key);
      else this.states.set(key, state);
      this.#index(key, state);
    }
    this.clock = txn.clock;
    this.shared = txn.shared;
  }

  #index(key: string, state: S | undefined): void {
    if (this.#dueOf) this.due.set(key, this.#dueOf(key, state));
  }
}

export interface RestoreSource {
  readonly kafka: Pick<Kafka, 'consumer'>;
  readonly admin: Pick<Admin, 'fetchTopicOffsets' | 'deleteGroups'>;
  readonly changelog: string;
  /** A consumer group of its own, deleted afterwards. */
  readonly groupId: string;
}

/**
 * Reads the changelog partitions of the stores from the beginning to their end (as of
 * now, committed records only) into the stores. Returns how many keys' records it read.
 */
export async function restoreStores<S>(source: RestoreSource, stores: readonly StateStore<S>[]): Promise<number> {
  const { kafka, admin, changelog, groupId } = source;
  const ends = await admin.fetchTopicOffsets(changelog);
  const wanted = new Map<number, StateStore<S>>(stores.map((s) => [s.partition, s]));
  /** The last offset still to read, per changelog partition. */
  const remaining = new Map<number, bigint>();
  for (const { partition, high, low } of ends) {
    if (wanted.has(partition) && BigInt(high) > BigInt(low)) remaining.set(partition, BigInt(high) - 1n);
  }
  let restored = 0;
  if (remaining.size === 0) return restored;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 50,
    maxBytes: 50 * 1024 * 1024,
  });
  const progress = (partition: number, lastOffset: string) => {
    const end = remaining.get(partition);
    if (end !== undefined && BigInt(lastOffset) >= end) remaining.delete(partition);
  };
  const done = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (remaining.size === 0) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.partition, e.payload.lastOffset));
    consumer.on(consumer.events.CRASH, (e) => {
      clearInterval(timer);
      reject((e.payload as { error: Error }).error);
    });
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: changelog, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const store = wanted.get(batch.partition);
        if (store) {
          for (const message of batch.messages) {
            if (store.restoreRecord(message.key?.toString('utf8'), message.value)) restored++;
          }
        }
        progress(batch.partition, batch.lastOffset());
      },
    });
    await done;
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
  }
  return restored;
}
