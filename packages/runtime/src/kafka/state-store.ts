/**
 * A partition's state store: each key's state in memory, the index of when each key's
 * clock step is due, the partition's clock and its latest shared record, all backed by
 * the partition of a compacted changelog topic (`<group>-state-changelog`, partition p
 * holds the state of input partition p). Keys' states are written with the topology's
 * state codec (JSON by default); the clock and the shared record under reserved keys,
 * as JSON. Each state record carries its key's due time in a `churn.due` header.
 *
 * A topology that brings its own (compact) codec has its states kept in memory as the
 * codec's bytes, the ones its changelog holds, and decoded when a record or the clock
 * step reads them, as Kafka Streams keeps serialized bytes in its stores: memory follows
 * the encoded size rather than the objects', and a restore copies bytes (the due time
 * comes from the header) instead of decoding every state. Without a codec of its own a
 * topology's states stay objects: decoding JSON on every read would cost more than it saves.
 */
import type { Admin, IHeaders, Kafka, Message } from 'kafkajs';
import type { StateCodec } from '../topology.ts';
import { DueIndex } from './due-index.ts';
import type { CommittedState, Transaction } from './transaction.ts';

export const CHANGELOG_SUFFIX = '-state-changelog';
/** Changelog key of a partition's clock (stream time of the last clock step). */
export const CLOCK_KEY = '\u0000churn.clock';
/** Changelog key of a partition's latest record of the topology's shared topic. */
export const SHARED_KEY = '\u0000churn.shared';
/** Header of a state's changelog record: when its key's clock step is next due (epoch ms, or Infinity). */
export const DUE_HEADER = 'churn.due';

/**
 * States kept as their codec's bytes, in one-byte strings (on the heap, with no object
 * per state), decoded on every read.
 */
class EncodedStates<S> implements ReadonlyMap<string, S> {
  readonly #bytes: Map<string, string>;
  readonly #codec: StateCodec<S>;
  constructor(bytes: Map<string, string>, codec: StateCodec<S>) {
    this.#bytes = bytes;
    this.#codec = codec;
  }
  get size(): number {
    return this.#bytes.size;
  }
  has(key: string): boolean {
    return this.#bytes.has(key);
  }
  get(key: string): S | undefined {
    const bytes = this.#bytes.get(key);
    return bytes === undefined ? undefined : this.#codec.decode(Buffer.from(bytes, 'latin1'));
  }
  keys(): MapIterator<string> {
    return this.#bytes.keys();
  }
  *entries(): MapIterator<[string, S]> {
    for (const key of this.#bytes.keys()) yield [key, this.get(key) as S];
  }
  *values(): MapIterator<S> {
    for (const key of this.#bytes.keys()) yield this.get(key) as S;
  }
  [Symbol.iterator](): MapIterator<[string, S]> {
    return this.entries();
  }
  forEach(fn: (value: S, key: string, map: ReadonlyMap<string, S>) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this);
  }
}

function headerNumber(headers: IHeaders | undefined, name: string): number | undefined {
  const raw = headers?.[name];
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (text === undefined) return undefined;
  const n = Number(text.toString());
  return Number.isNaN(n) ? undefined : n;
}

export class StateStore<S> implements CommittedState<S> {
  readonly partition: number;
  /** Every key's state. */
  readonly states: ReadonlyMap<string, S>;
  /** The states as objects, or null when they are kept encoded. */
  readonly #objects: Map<string, S> | null;
  /** The states as their codec's bytes (latin1 strings), or null when they are kept as objects. */
  readonly #bytes: Map<string, string> | null;
  /** Due times read from the changelog's headers during a restore, for `indexAll`. */
  readonly #restoredDue = new Map<string, number>();
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
    keepEncoded = false,
  ) {
    this.partition = partition;
    this.#codec = codec;
    this.changelog = changelog;
    this.#dueOf = dueOf;
    this.#bytes = keepEncoded ? new Map() : null;
    this.#objects = keepEncoded ? null : new Map();
    this.states = this.#bytes ? new EncodedStates(this.#bytes, codec) : (this.#objects as Map<string, S>);
  }

  #set(key: string, state: S, encoded?: Buffer): void {
    if (this.#bytes) this.#bytes.set(key, (encoded ?? this.#codec.encode(state)).toString('latin1'));
    else this.#objects?.set(key, state);
  }

  #delete(key: string): void {
    this.#bytes?.delete(key);
    this.#objects?.delete(key);
  }

  get size(): number {
    return this.states.size;
  }

  /** Reads one changelog record back into the store; returns whether it was a key's state. */
  restoreRecord(key: string | undefined, value: Buffer | null, headers?: IHeaders): boolean {
    if (key === undefined) return false;
    if (key === SHARED_KEY) {
      this.shared = value === null ? undefined : JSON.parse(value.toString('utf8'));
      return false;
    }
    if (key === CLOCK_KEY) {
      this.clock = value === null ? null : (JSON.parse(value.toString('utf8')) as { at: number }).at;
      return false;
    }
    if (value === null) {
      this.#delete(key);
      this.#restoredDue.delete(key);
      return true;
    }
    if (this.#bytes) {
      this.#bytes.set(key, value.toString('latin1'));
      const due = headerNumber(headers, DUE_HEADER);
      if (due === undefined) this.#restoredDue.delete(key);
      else this.#restoredDue.set(key, due);
    } else this.#objects?.set(key, this.#codec.decode(value));
    return true;
  }

  /** Indexes every restored key's due time (from its record's header, or from its state). */
  indexAll(): void {
    if (this.#dueOf) {
      for (const key of this.states.keys()) {
        const due = this.#restoredDue.get(key);
        if (due !== undefined) this.due.set(key, due);
        else this.#index(key, this.states.get(key));
      }
    }
    this.#restoredDue.clear();
  }

  /** The changelog records of a transaction's state changes (and clock, and shared record), for its partition. */
  changelogOf(txn: Transaction<S>): Message[] {
    const records: Message[] = [];
    for (const [key, state] of txn.changes) {
      if (state === undefined) {
        records.push({ key, value: null, partition: this.partition });
        continue;
      }
      const value = this.#codec.encode(state);
      txn.encoded.set(key, value);
      const message: Message = { key, value, partition: this.partition };
      if (this.#dueOf) message.headers = { [DUE_HEADER]: String(txn.dueOf(key)) };
      records.push(message);
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
      if (state === undefined) this.#delete(key);
      else this.#set(key, state, txn.encoded.get(key));
      if (this.#dueOf) this.due.set(key, txn.dueOf(key));
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
            if (store.restoreRecord(message.key?.toString('utf8'), message.value, message.headers)) restored++;
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
