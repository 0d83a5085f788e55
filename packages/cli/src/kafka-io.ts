/** Offline-form events onto Kafka (Avro through the registry) and back. */
import { once } from 'node:events';
import type { TopicName } from '@churn/contracts';
import {
  createKafka,
  createLogger,
  deleteConsumerGroup,
  ensureTopics,
  type KafkaServiceConfig,
  serdeFromConfig,
  topicsOf,
} from '@churn/runtime';
import type { ContractSerde } from '@churn/serde';
import { type Consumer, type Kafka, Partitioners } from 'kafkajs';
import { parseLine, readLines } from './offline.ts';

export function serdeOf(config: KafkaServiceConfig): ContractSerde {
  return serdeFromConfig(config, 'churnctl');
}

export function kafkaOf(config: KafkaServiceConfig): Kafka {
  return createKafka(
    config,
    'churnctl',
    createLogger({ service: 'churnctl', level: 'warn', destination: process.stderr as never }),
  );
}

/** How long a command waits for its consumer to join its group before it gives up. */
export const JOIN_TIMEOUT_MS = 120_000;

/** The end of a read that stops when no record has come for a while. */
export interface IdleRead {
  /** A record came. */
  touch(): void;
  /** Ends the read now. */
  done(): void;
  /** Resolves when the read ends; rejects when the consumer never joins its group. */
  readonly finished: Promise<void>;
}

/**
 * Ends a read once the consumer has joined its group and `idleMs` then pass without a
 * record. Idle time counts from the join, not from the start: a join can take longer
 * than `idleMs` (a group's previous member may still hold its session), and counting
 * from the start would end the read before its first record, reporting nothing read.
 * Register it before `consumer.run`.
 */
export function untilIdle(consumer: Consumer, idleMs: number, joinTimeoutMs = JOIN_TIMEOUT_MS): IdleRead {
  const started = Date.now();
  let joined = false;
  let last = started;
  let end: (err?: Error) => void = () => {};
  const finished = new Promise<void>((resolve, reject) => {
    end = (err) => {
      clearInterval(timer);
      removeListener();
      if (err) reject(err);
      else resolve();
    };
  });
  const removeListener = consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
    last = Date.now();
  });
  const timer = setInterval(() => {
    const now = Date.now();
    if (!joined && now - started > joinTimeoutMs) {
      end(new Error(`the consumer did not join its group within ${Math.round(joinTimeoutMs / 1000)} s`));
    } else if (joined && now - last > idleMs) end();
  }, 100);
  return {
    touch: () => {
      last = Date.now();
    },
    done: () => end(),
    finished,
  };
}

export interface ProduceResult {
  produced: number;
  rejected: Array<{ line: number; reason: string }>;
}

/** Produces every valid line of `path`; reports the lines it could not. */
export async function produceFile(
  config: KafkaServiceConfig,
  path: string,
  progress?: (n: number) => void,
): Promise<ProduceResult> {
  const kafka = kafkaOf(config);
  const serde = serdeOf(config);
  const admin = kafka.admin();
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const result: ProduceResult = { produced: 0, rejected: [] };
  await admin.connect();
  await producer.connect();
  try {
    const ensured = new Set<string>();
    let batch: Array<{ topic: TopicName; key: string; value: Buffer }> = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
      for (const m of batch) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), { key: m.key, value: m.value }]);
      await producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        acks: -1,
      });
      result.produced += batch.length;
      batch = [];
      progress?.(result.produced);
    };
    for await (const { line, number } of readLines(path)) {
      const parsed = parseLine(line);
      if (!parsed.ok) {
        result.rejected.push({ line: number, reason: parsed.reason });
        continue;
      }
      const { topic, key, value } = parsed.event;
      if (!ensured.has(topic)) {
        await ensureTopics(admin, topicsOf([topic], []), config.TOPIC_PARTITIONS, config.TOPIC_REPLICATION_FACTOR);
        ensured.add(topic);
      }
      batch.push({ topic, key, value: await serde.encode(topic, value) });
      if (batch.length >= 1000) await flush();
    }
    await flush();
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  return result;
}

/**
 * Prints decoded records of `topic` as offline-form lines (read_committed), from the
 * beginning, until `max` records or `idleMs` without a record.
 */
export async function tailTopic(
  config: KafkaServiceConfig,
  topic: TopicName,
  options: { max?: number | undefined; idleMs: number; out: NodeJS.WritableStream },
): Promise<number> {
  const kafka = kafkaOf(config);
  const serde = serdeOf(config);
  const groupId = `churnctl-tail-${crypto.randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  let count = 0;
  const read = untilIdle(consumer, options.idleMs);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        read.touch();
        if (options.max !== undefined && count >= options.max) return read.done();
        try {
          const { value } = await serde.decode(topic, message.value);
          const line = JSON.stringify({ topic, key: message.key?.toString('utf8') ?? null, value });
          if (!options.out.write(`${line}\n`)) await once(options.out, 'drain');
        } catch (err) {
          process.stderr.write(`churnctl tail: ${topic}[${partition}]@${message.offset}: ${(err as Error).message}\n`);
        }
        count++;
        if (options.max !== undefined && count >= options.max) read.done();
      },
    });
    await read.finished;
  } finally {
    read.done();
    await consumer.disconnect();
    await deleteConsumerGroup(kafka, groupId);
  }
  return count;
}
