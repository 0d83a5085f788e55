/**
 * What one transaction of a partition will write, while it is being filled: outputs and
 * dead letters per topic, state changes, the clock and the shared record as it leaves
 * them, and the input records it holds. Nothing of it reaches the partition's state
 * until it commits.
 */
import type { Message } from 'kafkajs';
import type { OutputRecord } from '../topology.ts';
import { DueIndex } from './due-index.ts';

/** The committed state a transaction starts from. */
export interface CommittedState<S> {
  readonly states: ReadonlyMap<string, S>;
  readonly due: DueIndex;
  /** The last midnight the clock step ran at (stream time), or null before the first record. */
  readonly clock: number | null;
  /** The latest record of the topology's shared topic, if any. */
  readonly shared: unknown;
}

export class Transaction<S> {
  /** Records to write, per topic: outputs, dead letters, and the changelog once staged. */
  readonly out = new Map<string, Message[]>();
  /** Dead letters written, counted once the transaction commits. */
  readonly deadLetters: Array<{ topic: string; code: string }> = [];
  /** New state per key changed (undefined: deleted). */
  readonly changes = new Map<string, S | undefined>();
  /** The changed states' changelog bytes, once staged: a store that keeps states encoded takes them as they are. */
  readonly encoded = new Map<string, Buffer>();
  /** Output records, counted by the metrics once the transaction commits. */
  readonly outputs: OutputRecord[] = [];
  /** Event times of the decisions written, for the decision latency. */
  readonly decisionTimes: number[] = [];
  /** Per input topic: how many buffered records the transaction holds, from the head. */
  cursor: Map<string, number>;
  /** Per input topic: the offset of the last record held. */
  readonly last = new Map<string, bigint>();
  /** Records processed per topic (counted once per transaction: a label lookup per record is not free). */
  readonly consumed = new Map<string, number>();
  records = 0;
  bytes = 0;
  processSeconds = 0;
  encodeSeconds = 0;
  /** When the transaction opened (monotonic ms), for the commit interval. */
  readonly openedAt: number;
  readonly #committed: CommittedState<S>;
  readonly #dueOf: (key: string, state: S | undefined) => number;
  /** Due times of the keys this transaction changed, indexed and by key. */
  readonly #changedDue = new DueIndex();
  readonly #dues = new Map<string, number>();
  clock: number | null;
  /** The partition's latest shared record, as this transaction leaves it. */
  shared: unknown;

  constructor(
    committed: CommittedState<S>,
    dueOf: (key: string, state: S | undefined) => number,
    openedAt: number,
    cursor = new Map<string, number>(),
  ) {
    this.cursor = cursor;
    this.#committed = committed;
    this.#dueOf = dueOf;
    this.openedAt = openedAt;
    this.clock = committed.clock;
    this.shared = committed.shared;
  }

  push(topic: string, message: Message): void {
    const list = this.out.get(topic);
    if (list) list.push(message);
    else this.out.set(topic, [message]);
  }

  stateOf(key: string): S | undefined {
    return this.changes.has(key) ? this.changes.get(key) : this.#committed.states.get(key);
  }

  /** Every key with state: the store's, then the ones this transaction adds. */
  keys(): string[] {
    const states = this.#committed.states;
    const keys = [...states.keys()];
    for (const key of this.changes.keys()) if (!states.has(key)) keys.push(key);
    return keys;
  }

  /**
   * Keys whose clock step is due at `at`, in key order: the committed ones the index
   * holds, unless this transaction changed them, and the ones this transaction changed.
   */
  dueKeys(at: number): string[] {
    const keys: string[] = [];
    this.#committed.due.collectDue(at, keys, this.changes);
    this.#changedDue.collectDue(at, keys);
    return keys.length > 1 ? keys.sort() : keys;
  }

  /** A key's new state in this transaction. */
  setState(key: string, state: S | undefined): void {
    const due = this.#dueOf(key, state);
    this.changes.set(key, state);
    this.#changedDue.set(key, due);
    this.#dues.set(key, due);
  }

  /** When a changed key's clock step is next due (its new state's `dueAt`). */
  dueOf(key: string): number {
    return this.#dues.get(key) ?? this.#dueOf(key, this.changes.get(key));
  }

  /** Whether committing it would change nothing. */
  isEmpty(): boolean {
    return this.changes.size === 0 && this.out.size === 0 && this.clock === this.#committed.clock;
  }
}

/** The message of an output record: by key, or to the partition it names. */
export function outputMessage(record: OutputRecord, value: Buffer): Message {
  return record.partition === undefined
    ? { key: record.key, value }
    : { key: record.key, value, partition: record.partition };
}
