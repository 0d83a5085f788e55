/**
 * A partition's decoding buffer: its fetched input records, decoded and waiting for the
 * merge, per topic, with where each topic stands (next to process, next to fetch, high
 * watermark). Decoding retries while the schema registry is away; a record that cannot
 * be decoded keeps its error for the dead-letter topic. A topic with too many records
 * waiting pauses its fetching until the merge has taken half of them.
 */
import { ChurnError } from '@churn/contracts';
import type { ContractSerde } from '@churn/serde';
import type { Batch, KafkaMessage } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { PipelineMetrics } from '../metrics.ts';
import { customerIdOf, eventTimeOf, type InputRecord, type Topology } from '../topology.ts';
import { backoff, isTransient, sleep } from './errors.ts';
import type { MergeRecord } from './event-time-merge.ts';

/** Records buffered per topic-partition before its fetching pauses. */
export const MAX_BUFFERED = 10_000;

/** A fetched input record waiting for its turn in the event-time merge. */
export interface BufferedRecord extends MergeRecord {
  readonly offset: bigint;
  readonly message: KafkaMessage;
  readonly input: InputRecord | null;
  readonly error: unknown;
}

export class RecordBuffer {
  /** Next offset to process per input topic, from the committed offsets read after the fence. */
  readonly nextOffset = new Map<string, bigint>();
  /** Next offset to fetch per input topic: everything before it is processed or buffered. */
  readonly fetchedNext = new Map<string, bigint>();
  /** Latest high watermark seen per input topic. */
  readonly highWater = new Map<string, bigint>();
  readonly buffers = new Map<string, BufferedRecord[]>();
  /** Topics whose fetching is paused, their buffers being full. */
  readonly paused = new Set<string>();
  /** Fetched records waiting for the registry to decode them (it is away): the merge waits for them, unbounded. */
  decodeRetrying = 0;
  /** Batches being decoded per topic: such a topic has records to come, whatever its last high watermark said. */
  readonly decoding = new Map<string, number>();

  /** Per topic, its high watermark when the partition was assigned: the records before it exist, and will be fetched. */
  readonly assignedHighWater = new Map<string, bigint>();

  /** Where a topic starts: its committed offset (or its first), and its high watermark now. */
  startAt(topic: string, start: bigint, highWater: bigint): void {
    this.nextOffset.set(topic, start);
    this.fetchedNext.set(topic, start);
    this.highWater.set(topic, highWater);
    this.assignedHighWater.set(topic, highWater);
  }

  /**
   * Whether a topic has records known to be on their way: a batch of it is being
   * decoded, or it held records when the partition was assigned that are not fetched yet.
   */
  owes(topic: string): boolean {
    if ((this.decoding.get(topic) ?? 0) > 0) return true;
    const assigned = this.assignedHighWater.get(topic);
    return assigned !== undefined && (this.fetchedNext.get(topic) ?? 0n) < assigned;
  }

  /** Records of a topic fetched up to `next` (exclusive), and its high watermark then. */
  advanceFetched(topic: string, next: bigint, highWater: bigint): void {
    if (next > (this.fetchedNext.get(topic) ?? 0n)) this.fetchedNext.set(topic, next);
    this.highWater.set(topic, highWater);
  }

  /** Whether every record of `topic` up to its high watermark is buffered or processed. */
  fullyFetched(topic: string): boolean {
    if ((this.decoding.get(topic) ?? 0) > 0) return false;
    const high = this.highWater.get(topic);
    return high !== undefined && (this.fetchedNext.get(topic) ?? 0n) >= high;
  }

  /** Records buffered of a topic. */
  buffered(topic: string): number {
    return this.buffers.get(topic)?.length ?? 0;
  }

  /** Records buffered of every topic. */
  bufferedTotal(): number {
    let n = 0;
    for (const list of this.buffers.values()) n += list.length;
    return n;
  }

  /** Whether every record of the topics up to the high watermarks seen is processed. */
  caughtUp(topics: readonly string[]): boolean {
    return topics.every((t) => this.fullyFetched(t) && this.buffered(t) === 0);
  }

  /** Whether a topic's buffer just became full: its fetching should pause. */
  pauseIfFull(topic: string): boolean {
    if (this.buffered(topic) < MAX_BUFFERED || this.paused.has(topic)) return false;
    this.paused.add(topic);
    return true;
  }

  /**
   * Moves past the records a committed transaction held: the first `cursor` records of
   * each topic, up to offset `last`. Returns the topics whose fetching may resume.
   */
  committed(cursor: ReadonlyMap<string, number>, last: ReadonlyMap<string, bigint>): string[] {
    for (const [topic, offset] of last) this.nextOffset.set(topic, offset + 1n);
    const resume: string[] = [];
    for (const [topic, n] of cursor) {
      const buffer = this.buffers.get(topic) ?? [];
      buffer.splice(0, n);
      if (this.paused.has(topic) && buffer.length < MAX_BUFFERED / 2) {
        this.paused.delete(topic);
        resume.push(topic);
      }
    }
    return resume;
  }

  clear(): void {
    this.buffers.clear();
  }
}

/**
 * Decodes fetched records into a partition's buffer: the registry's schema, the size
 * bound, and the key, which on a contract topic must be the record's customerId.
 */
export class RecordDecoder {
  readonly #serde: Pick<ContractSerde, 'decode'>;
  readonly #topology: Pick<Topology<unknown>, 'internalTopics'>;
  readonly #maxRecordBytes: number;
  readonly #metrics: Pick<PipelineMetrics, 'retries' | 'processingDuration'>;
  readonly #service: string;
  readonly #log: Logger;
  /** Whether the runner is stopping: transient errors are then not retried. */
  readonly #stopping: () => boolean;

  constructor(options: {
    serde: Pick<ContractSerde, 'decode'>;
    topology: Pick<Topology<unknown>, 'internalTopics'>;
    maxRecordBytes: number;
    metrics: Pick<PipelineMetrics, 'retries' | 'processingDuration'>;
    service: string;
    log: Logger;
    stopping: () => boolean;
  }) {
    this.#serde = options.serde;
    this.#topology = options.topology;
    this.#maxRecordBytes = options.maxRecordBytes;
    this.#metrics = options.metrics;
    this.#service = options.service;
    this.#log = options.log;
    this.#stopping = options.stopping;
  }

  /**
   * Decodes a fetched batch into the buffer, after what is buffered or processed, and
   * moves the topic's fetch position on (a batch may end in transaction markers).
   */
  async bufferBatch(
    into: RecordBuffer,
    batch: Pick<Batch, 'topic' | 'messages' | 'lastOffset' | 'highWatermark'>,
  ): Promise<void> {
    const topic = batch.topic;
    const buffer = into.buffers.get(topic) ?? [];
    into.buffers.set(topic, buffer);
    let fetched = into.fetchedNext.get(topic) ?? 0n;
    const decodeStarted = performance.now();
    into.decoding.set(topic, (into.decoding.get(topic) ?? 0) + 1);
    try {
      for (const message of batch.messages) {
        const offset = BigInt(message.offset);
        if (offset < fetched) continue; // processed by this partition's previous owner, or already buffered
        buffer.push(await this.decodeWithRetries(into, topic, offset, message));
        fetched = offset + 1n;
      }
    } finally {
      into.decoding.set(topic, (into.decoding.get(topic) ?? 1) - 1);
    }
    this.#metrics.processingDuration.observe(
      { service: this.#service, stage: 'decode' },
      (performance.now() - decodeStarted) / 1000,
    );
    into.fetchedNext.set(topic, fetched);
    into.advanceFetched(topic, BigInt(batch.lastOffset()) + 1n, BigInt(batch.highWatermark));
  }

  /** Decodes a fetched record; retries transient registry errors, keeps other errors for the dead-letter topic. */
  async decodeWithRetries(
    into: RecordBuffer,
    topic: string,
    offset: bigint,
    message: KafkaMessage,
  ): Promise<BufferedRecord> {
    let retrying = false;
    const bytes = (message.value?.length ?? 0) + (message.key?.length ?? 0);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const input = await this.decode(topic, message);
          return { topic, offset, message, input, error: null, time: eventTimeOf(input.value), bytes };
        } catch (err) {
          if (!isTransient(err) || this.#stopping())
            return { topic, offset, message, input: null, error: err, time: Number.NEGATIVE_INFINITY, bytes };
          if (!retrying) {
            retrying = true;
            into.decodeRetrying++;
          }
          this.#metrics.retries.inc({
            service: this.#service,
            reason: err instanceof ChurnError ? err.code : 'decode',
          });
          this.#log.warn({ err, topic, offset: String(offset), attempt }, 'transient error while decoding; retrying');
          await sleep(backoff(attempt));
        }
      }
    } finally {
      if (retrying) into.decodeRetrying--;
    }
  }

  async decode(topic: string, message: Pick<KafkaMessage, 'key' | 'value'>): Promise<InputRecord> {
    const size = message.value?.length ?? 0;
    if (size > this.#maxRecordBytes) {
      throw new ChurnError(
        'CHURN_RECORD_TOO_LARGE',
        `record value is ${size} bytes; the limit is ${this.#maxRecordBytes}`,
      );
    }
    const { value } = await this.#serde.decode(topic, message.value);
    const key = message.key?.toString('utf8');
    const customerId = customerIdOf(value);
    if (!key)
      throw new ChurnError('CHURN_KEY_MISMATCH', 'record has no key; customer-scoped topics are keyed by customerId');
    // Internal topics are re-keyed on purpose (by reason, say), so only contract topics
    // must carry the customerId as key.
    const rekeyed = this.#topology.internalTopics?.some((t) => t.topic === topic) === true;
    if (!rekeyed && customerId !== null && key !== customerId) {
      throw new ChurnError('CHURN_KEY_MISMATCH', `record key does not match the record's customerId`);
    }
    return { topic, key, value };
  }
}
