/**
 * Helpers for integration tests against the real broker: clients from the global
 * setup, topic creation, and reading back what a test wrote. Each helper cleans up
 * what it creates (consumers disconnect, test consumer groups are deleted).
 */
import { topicCatalogue } from '@churn/contracts';
import { deleteConsumerGroup } from '@churn/runtime';
import { ContractSerde } from '@churn/serde';
import { type Admin, type IHeaders, Kafka, type KafkaMessage, logLevel, Partitioners } from 'kafkajs';
import { inject } from 'vitest';
import { emptyCluster } from './empty-cluster.ts';

export const PARTITIONS = 3;

export function testKafka(clientId = 'churn-test'): Kafka {
  return new Kafka({ clientId, brokers: inject('kafkaBrokers').split(','), logLevel: logLevel.ERROR });
}

/**
 * Empties the broker (every topic and group but Kafka's own) and creates the contract
 * topics afresh: for tests whose stages span customers or whose histories sit at a fixed
 * date, which what earlier tests left would disturb.
 */
export async function emptyBroker(): Promise<void> {
  const admin = testKafka('churn-test-empty').admin();
  await admin.connect();
  try {
    await emptyCluster(admin, PARTITIONS);
  } finally {
    await admin.disconnect();
  }
}

export function testSerde(): ContractSerde {
  return new ContractSerde({ url: inject('schemaRegistryUrl') });
}

export async function ensureTopics(
  admin: Admin,
  topics: readonly string[] = topicCatalogue.map((t) => t.topic),
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t));
  if (missing.length === 0) return;
  const compacted = new Set<string>(topicCatalogue.filter((t) => t.compacted).map((t) => t.topic));
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: PARTITIONS,
      replicationFactor: 1,
      configEntries: compacted.has(topic) ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
    })),
  });
}

export function newProducer(kafka: Kafka) {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
}

/** A client, every contract topic created, and a connected idempotent producer. */
export async function connectWithTopics(
  kafka: Kafka = testKafka(),
): Promise<{ kafka: Kafka; producer: ReturnType<typeof newProducer> }> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin);
  await admin.disconnect();
  const producer = newProducer(kafka);
  await producer.connect();
  return { kafka, producer };
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Reads `topic` from the beginning with a read_committed consumer in a throw-away
 * group until `done(records)` says enough, or fails after `timeoutMs`.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  done: (records: ReadRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const groupId = `churn-test-reader-${crypto.randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `read ${records.length} records from ${topic} in ${timeoutMs} ms without finding what the test waits for`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
            records.push({
              partition,
              offset: message.offset,
              key: message.key ? message.key.toString('utf8') : null,
              value: message.value,
              headers: message.headers ?? {},
            });
            if (done(records)) {
              clearTimeout(timer);
              resolvePromise();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    await deleteConsumerGroup(kafka, groupId);
  }
  return records;
}

export interface CollectedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  raw: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads topics from the beginning with a read_committed consumer and keeps every record,
 * decoded through the registry (raw bytes for dead-letter topics). For asserting on
 * what the pipeline wrote.
 */
export class Collector {
  readonly records: CollectedRecord[] = [];
  readonly #kafka: Kafka;
  readonly #groupId = `churn-test-collector-${crypto.randomUUID()}`;
  #consumer: ReturnType<Kafka['consumer']> | null = null;
  #topics: readonly string[] = [];
  /** Next offset to read per `topic:partition`, transaction markers included. */
  readonly #position = new Map<string, bigint>();

  constructor(kafka: Kafka) {
    this.#kafka = kafka;
  }

  async start(topics: readonly string[]): Promise<this> {
    const serde = testSerde();
    const consumer = this.#kafka.consumer({ groupId: this.#groupId, readUncommitted: false, maxWaitTimeInMs: 100 });
    this.#consumer = consumer;
    this.#topics = topics;
    const advance = (topic: string, partition: number, next: bigint) => {
      const key = `${topic}:${partition}`;
      if (next > (this.#position.get(key) ?? 0n)) this.#position.set(key, next);
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) =>
      advance(e.payload.topic, e.payload.partition, BigInt(e.payload.lastOffset) + 1n),
    );
    await consumer.connect();
    await consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        advance(topic, partition, BigInt(message.offset) + 1n);
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v ?? '')]),
        );
        let value: unknown = null;
        if (!topic.endsWith('.dlq') && !topic.endsWith('-changelog')) {
          // Input topics may hold bad records on purpose; those are kept undecoded.
          value = await serde.decode(topic, message.value).then(
            (decoded) => decoded.value,
            () => null,
          );
        }
        this.records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value,
          raw: message.value,
          headers,
        });
      },
    });
    return this;
  }

  of(topic: string, filter: (r: CollectedRecord) => boolean = () => true): CollectedRecord[] {
    return this.records.filter((r) => r.topic === topic && filter(r));
  }

  async waitFor(what: string, probe: () => boolean, timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}; collected ${this.records.length} records`,
        );
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * Waits until the collector has read every topic up to where it ends now (its high
   * watermark, transaction markers included): whatever was committed before this call
   * has then been collected, and nothing is left to arrive.
   */
  async readToEnd(timeoutMs = 60_000): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    const ends = new Map<string, bigint>();
    try {
      for (const topic of this.#topics) {
        for (const { partition, high } of await admin.fetchTopicOffsets(topic))
          ends.set(`${topic}:${partition}`, BigInt(high));
      }
    } finally {
      await admin.disconnect();
    }
    await this.waitFor(
      'the collector to read every topic to its end',
      () => [...ends].every(([key, end]) => end === 0n || (this.#position.get(key) ?? 0n) >= end),
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect();
    await deleteConsumerGroup(this.#kafka, this.#groupId);
  }
}
