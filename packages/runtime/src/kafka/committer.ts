/**
 * How a partition's transaction reaches Kafka, per processing guarantee.
 *
 * - Exactly-once: outputs, dead letters, changelog records and consumed offsets in one
 *   Kafka transaction of the partition's own transactional producer.
 * - At-least-once: one idempotent producer for every partition; outputs, then changelog
 *   records, then offsets, each once the previous is acknowledged.
 */
import { ChurnError } from '@churn/contracts';
import { type Message, Partitioners, type Producer, type ProducerConfig, type TopicMessages } from 'kafkajs';
import type { PipelineMetrics } from '../metrics.ts';
import { isFenced, TransactionOutcomeUnknown } from './errors.ts';

/**
 * Producer settings shared by both guarantees: Java-compatible murmur2 partitioning (so
 * keys land where Kafka Streams or Java producers would put them) and unbounded retries,
 * which idempotence needs to keep its ordering guarantee. The first retry comes after
 * 2 ms: a transaction that starts while the coordinator still writes the previous one's
 * markers is refused (CONCURRENT_TRANSACTIONS) for a few milliseconds, and a longer
 * first wait is added to the latency of a live decision.
 */
export const PRODUCER_BASE: ProducerConfig = {
  createPartitioner: Partitioners.DefaultPartitioner,
  idempotent: true,
  maxInFlightRequests: 1,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 2, maxRetryTime: 5_000 },
};

/**
 * Bytes of one topic's records per produce request at most: a partition's records in a
 * request form one batch, which must stay under the broker's message.max.bytes (1 MiB by
 * default). A transaction with more sends them in several requests.
 */
const MAX_SEND_BYTES = 512 * 1024;

/** Consumed offsets to commit, as kafkajs takes them in a transaction. */
export type TopicOffsets = Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;

/** The offsets to commit after the last record processed of each topic of a partition. */
export function offsetsAfter(partition: number, last: ReadonlyMap<string, bigint>): TopicOffsets {
  return [...last].map(([topic, offset]) => ({
    topic,
    partitions: [{ partition, offset: (offset + 1n).toString() }],
  }));
}

/** The partition a transaction belongs to, and its transactional producer (exactly-once). */
export interface CommitTarget {
  readonly partition: number;
  readonly producer: Pick<Producer, 'transaction'> | null;
}

export interface Committer {
  /** Writes a transaction's records and its consumed offsets; throws when they may not all be written. */
  commit(target: CommitTarget, out: ReadonlyMap<string, Message[]>, offsets: TopicOffsets): Promise<void>;
}

export class ExactlyOnceCommitter implements Committer {
  readonly #groupId: string;
  readonly #service: string;
  readonly #metrics: Pick<PipelineMetrics, 'transactions'>;

  constructor(groupId: string, service: string, metrics: Pick<PipelineMetrics, 'transactions'>) {
    this.#groupId = groupId;
    this.#service = service;
    this.#metrics = metrics;
  }

  async commit(target: CommitTarget, out: ReadonlyMap<string, Message[]>, offsets: TopicOffsets): Promise<void> {
    const producer = target.producer;
    if (!producer)
      throw new ChurnError('CHURN_REGISTRY_UNAVAILABLE', 'partition has no producer yet', { retriable: true });
    const txn = await producer.transaction();
    try {
      for (const topicMessages of sendRounds(out)) await txn.sendBatch({ topicMessages, acks: -1 });
      if (offsets.length > 0) await txn.sendOffsets({ consumerGroupId: this.#groupId, topics: offsets });
      await txn.commit();
      this.#metrics.transactions.inc({ service: this.#service, result: 'committed' });
    } catch (err) {
      const aborted = await txn.abort().then(
        () => true,
        () => false,
      );
      this.#metrics.transactions.inc({ service: this.#service, result: 'aborted' });
      if (!aborted && !isFenced(err)) throw new TransactionOutcomeUnknown(err);
      throw err;
    }
  }
}

export class AtLeastOnceCommitter implements Committer {
  readonly #producer: Pick<Producer, 'sendBatch'>;
  readonly #changelog: string;
  readonly #commitOffsets: (offsets: Array<{ topic: string; partition: number; offset: string }>) => Promise<void>;

  constructor(
    producer: Pick<Producer, 'sendBatch'>,
    changelog: string,
    commitOffsets: (offsets: Array<{ topic: string; partition: number; offset: string }>) => Promise<void>,
  ) {
    this.#producer = producer;
    this.#changelog = changelog;
    this.#commitOffsets = commitOffsets;
  }

  async commit(_target: CommitTarget, out: ReadonlyMap<string, Message[]>, offsets: TopicOffsets): Promise<void> {
    // Outputs first, then state, then offsets: a crash in between repeats outputs
    // (with the same event ids) but never loses one.
    const outputs = new Map([...out].filter(([topic]) => topic !== this.#changelog));
    const changelog = new Map([...out].filter(([topic]) => topic === this.#changelog));
    for (const topicMessages of sendRounds(outputs)) await this.#producer.sendBatch({ topicMessages, acks: -1 });
    for (const topicMessages of sendRounds(changelog)) await this.#producer.sendBatch({ topicMessages, acks: -1 });
    if (offsets.length > 0) {
      await this.#commitOffsets(
        offsets.flatMap((o) => o.partitions.map((p) => ({ topic: o.topic, partition: p.partition, offset: p.offset }))),
      );
    }
  }
}

/** Approximate bytes of a record in a batch: key, value, headers and per-record overhead. */
function sizeOf(message: Message): number {
  let size = 16 + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  if (message.headers) {
    for (const [name, value] of Object.entries(message.headers)) size += 8 + name.length + (value?.length ?? 0);
  }
  return size;
}

/**
 * Splits a transaction's records into produce requests that each hold at most
 * MAX_SEND_BYTES of a topic (one record always goes), in order: a topic's records keep
 * their order across the requests, which are sent one after the other.
 */
export function sendRounds(out: ReadonlyMap<string, Message[]>): TopicMessages[][] {
  const rounds: TopicMessages[][] = [];
  const add = (round: number, part: TopicMessages) => {
    const list = rounds[round];
    if (list) list.push(part);
    else rounds[round] = [part];
  };
  for (const [topic, messages] of out) {
    let round = 0;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const size = sizeOf(messages[i] as Message);
      if (i > start && bytes + size > MAX_SEND_BYTES) {
        add(round++, { topic, messages: messages.slice(start, i) });
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    if (messages.length > start) add(round, { topic, messages: messages.slice(start) });
  }
  return rounds;
}
