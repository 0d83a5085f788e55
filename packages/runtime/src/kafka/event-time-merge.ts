/**
 * The event-time merge of a partition's input topics, free of Kafka: which buffered
 * record comes next, whether to wait for a topic whose records are not fetched yet, and
 * the gate of records that need their day's shared record.
 *
 * Records come in event-time order; ties go by rank (the shared topic first, then the
 * topic catalogue's order, then the topology's own inputs), then by offset. A topic with
 * nothing buffered but records still to fetch may hold earlier records: the merge waits
 * for it up to `mergeIdleMs`, then goes on without it. A topic whose records are known to
 * be on their way (fetched and being decoded, or in the topic since the partition was
 * assigned) is waited for up to `owedWaitMs` instead: a restarted instance on a busy
 * machine may take longer than `mergeIdleMs` to fetch and decode them, and going on
 * without them would take the other topics' later records first.
 */
import { midnightOf } from './due-index.ts';

/** What the merge needs of a buffered record. */
export interface MergeRecord {
  readonly topic: string;
  /** Event time; -Infinity for a record that cannot be decoded (it goes first, to its dead-letter topic). */
  readonly time: number;
  /** Bytes of key and value, for the transaction's byte bound. */
  readonly bytes: number;
}

/**
 * Merge order of records with the same event time: the shared topic first (its record of
 * a midnight comes before every record at that midnight), then the catalogue's order
 * (the order `churnctl generate` writes ties in), then the other inputs in their order.
 */
export function mergeRanks(
  inputs: readonly string[],
  catalogue: readonly string[],
  sharedTopic?: string,
): ReadonlyMap<string, number> {
  return new Map(
    inputs.map((t, i) => [
      t,
      t === sharedTopic ? -1 : catalogue.includes(t) ? catalogue.indexOf(t) : catalogue.length + i,
    ]),
  );
}

/** The event time a shared record is as of; -Infinity without one. */
export function sharedTimeOf(shared: unknown): number {
  const at = (shared as { occurredAt?: unknown } | undefined)?.occurredAt;
  return typeof at === 'number' ? at : Number.NEGATIVE_INFINITY;
}

export interface MergeInput<R extends MergeRecord> {
  readonly inputs: readonly string[];
  readonly ranks: ReadonlyMap<string, number>;
  /** Buffered records per topic, in offset order. */
  readonly buffers: ReadonlyMap<string, readonly R[]>;
  /** Per topic, how many buffered records the open transaction already holds (from the head). */
  readonly cursor: ReadonlyMap<string, number>;
  /** Whether every record of a topic up to its high watermark is buffered or processed. */
  readonly fullyFetched: (topic: string) => boolean;
  /** Whether a topic has records known to be on their way: fetched and being decoded, or there since the partition was assigned. */
  readonly owed?: (topic: string) => boolean;
  /** How long the merge waits for a topic that owes records (at least `mergeIdleMs`). @default mergeIdleMs */
  readonly owedWaitMs?: number;
  /** Whether fetched records wait for the registry to decode them: the merge waits for them, however long. */
  readonly decodeRetrying: boolean;
  /** Records and bytes the open transaction already holds, and its bounds. */
  readonly held: number;
  readonly heldBytes: number;
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly shared?: { readonly topic: string; readonly gates: readonly string[] };
  /** Event time of the partition's latest shared record, as the open transaction leaves it. */
  readonly sharedAt: number;
  /** Since when the merge waits for a topic to be fetched, if it does. */
  readonly waitingSince: number | null;
  readonly now: number;
  readonly mergeIdleMs: number;
}

export interface MergeResult<R extends MergeRecord> {
  /** The next records, in the order to process them. */
  readonly picked: R[];
  /** The cursor after them. */
  readonly cursor: Map<string, number>;
  readonly bytes: number;
  /** Event time of the record that waits for the shared record of its midnight, if one does. */
  readonly gatedAt: number | null;
  readonly waitingSince: number | null;
  /** When the merge should run again to stop waiting for a topic (ms from `now`), if it waits. */
  readonly wakeInMs: number | null;
}

/**
 * The next records in event-time order, after those the open transaction holds, up to
 * the transaction's bounds; none while a topic that may have earlier records is awaited.
 */
export function nextRecords<R extends MergeRecord>(m: MergeInput<R>): MergeResult<R> {
  const { inputs, ranks, buffers, shared } = m;
  let sharedAt = m.sharedAt;
  let gatedAt: number | null = null;
  let waitingSince = m.waitingSince;
  let wakeInMs: number | null = null;
  const cursor = new Map(m.cursor);
  const picked: R[] = [];
  let bytes = 0;
  while (m.held + picked.length < m.maxRecords && m.heldBytes + bytes < m.maxBytes) {
    let best: R | undefined;
    let bestRank = 0;
    let awaited = false;
    let owed = false;
    for (const topic of inputs) {
      const rank = ranks.get(topic) ?? 0;
      const head = buffers.get(topic)?.[cursor.get(topic) ?? 0];
      if (head === undefined) {
        if (!m.fullyFetched(topic)) {
          awaited = true;
          if (m.owed?.(topic)) owed = true;
        }
        continue;
      }
      if (best === undefined || head.time < best.time || (head.time === best.time && rank < bestRank)) {
        best = head;
        bestRank = rank;
      }
    }
    if (best === undefined) break;
    if (awaited) {
      // A topic has records not fetched yet that may come first: wait for them a while.
      if (picked.length > 0) break;
      // Fetched but not decodable while the registry is away: wait for it, however
      // long, rather than take the others out of order (the batch drains on its own).
      if (m.decodeRetrying) {
        waitingSince = null;
        break;
      }
      waitingSince ??= m.now;
      const bound = owed ? Math.max(m.mergeIdleMs, m.owedWaitMs ?? 0) : m.mergeIdleMs;
      if (m.now - waitingSince < bound) {
        wakeInMs = bound - (m.now - waitingSince);
        break;
      }
    } else {
      waitingSince = null;
    }
    if (shared !== undefined && best.topic !== shared.topic) {
      const midnight = midnightOf(best.time);
      if (Number.isFinite(best.time) && shared.gates.includes(best.topic) && sharedAt < midnight) {
        // A shared record of a later midnight is already here: the one of this record's
        // midnight was never published for this partition (the record is older than the
        // stage that publishes them), and will not come. The record goes on with the
        // latest there is, as a late record does.
        const next = buffers.get(shared.topic)?.[cursor.get(shared.topic) ?? 0];
        if (next !== undefined && next.time > midnight) best = next;
        else {
          gatedAt = best.time;
          break;
        }
      }
    }
    if (shared !== undefined && best.topic === shared.topic) sharedAt = Math.max(sharedAt, best.time);
    cursor.set(best.topic, (cursor.get(best.topic) ?? 0) + 1);
    picked.push(best);
    bytes += best.bytes;
  }
  return { picked, cursor, bytes, gatedAt, waitingSince, wakeInMs };
}
