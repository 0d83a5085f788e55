/**
 * Dead-letter topics for operators: see what is there and why, and put records back on
 * their source topic once the cause is fixed. Replays are remembered per dead-letter
 * topic (a consumer group of its own), so running a replay again does not send the same
 * dead letter twice.
 */
import { isTopicName, type TopicName } from '@churn/contracts';
import { customerIdOf, DLQ_HEADERS, deleteConsumerGroup, type KafkaServiceConfig } from '@churn/runtime';
import { type IHeaders, type KafkaMessage, Partitioners } from 'kafkajs';
import { kafkaOf, serdeOf, untilIdle } from './kafka-io.ts';

export interface DeadLetter {
  partition: number;
  offset: string;
  key: string | null;
  sourceTopic: string;
  sourcePartition: number;
  sourceOffset: string;
  kind: string;
  code: string;
  message: string;
  service: string;
  failedAt: string;
  attempts: number;
  bytes: number;
}

function header(headers: IHeaders | undefined, name: string): string {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? '' : first.toString();
}

export function deadLetterOf(partition: number, message: KafkaMessage): DeadLetter {
  const h = message.headers;
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    sourceTopic: header(h, DLQ_HEADERS.topic),
    sourcePartition: Number(header(h, DLQ_HEADERS.partition)),
    sourceOffset: header(h, DLQ_HEADERS.offset),
    kind: header(h, DLQ_HEADERS.kind),
    code: header(h, DLQ_HEADERS.code),
    message: header(h, DLQ_HEADERS.message),
    service: header(h, DLQ_HEADERS.service),
    failedAt: header(h, DLQ_HEADERS.failedAt),
    attempts: Number(header(h, DLQ_HEADERS.attempts)),
    bytes: message.value?.length ?? 0,
  };
}

/**
 * Reads a dead-letter topic from the beginning (or the group's committed position) up to
 * its end as it was when the read began, and stops `idleMs` after the last record (idle
 * time counts from the group join). Letters written during the read are left for the
 * next one: a replayed record that fails again is dead-lettered again, and reading on
 * would replay it again, for as long as it keeps failing. Only the offsets handled are
 * committed.
 */
async function consume(
  config: KafkaServiceConfig,
  topic: string,
  groupId: string,
  idleMs: number,
  handle: (partition: number, message: KafkaMessage) => Promise<boolean>,
  forget: boolean,
): Promise<void> {
  const kafka = kafkaOf(config);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    await admin
      .fetchTopicOffsets(topic)
      .then((offsets) => offsets.map((o) => [o.partition, BigInt(o.high)] as const))
      .finally(() => admin.disconnect()),
  );
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 200 });
  const read = untilIdle(consumer, idleMs);
  let stop = false;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, pause }) => {
        const end = ends.get(batch.partition) ?? 0n;
        for (const message of batch.messages) {
          read.touch();
          if (stop) return;
          if (BigInt(message.offset) >= end) {
            pause();
            return;
          }
          if (!(await handle(batch.partition, message))) {
            stop = true;
            read.done();
          }
          resolveOffset(message.offset);
          await heartbeat();
        }
      },
    });
    await read.finished;
  } finally {
    read.done();
    await consumer.disconnect();
    if (forget) await deleteConsumerGroup(kafka, groupId);
  }
}

/** Every dead letter of `topic` (up to `max`), with why it is there. */
export async function inspectDeadLetters(
  config: KafkaServiceConfig,
  topic: string,
  options: { max?: number | undefined; idleMs: number },
): Promise<DeadLetter[]> {
  const found: DeadLetter[] = [];
  await consume(
    config,
    topic,
    `churnctl-dlq-inspect-${crypto.randomUUID()}`,
    options.idleMs,
    async (partition, message) => {
      found.push(deadLetterOf(partition, message));
      return options.max === undefined || found.length < options.max;
    },
    true,
  );
  return found;
}

export interface ReplayFilter {
  /** Only dead letters with this error code (e.g. CHURN_KEY_MISMATCH). */
  code?: string | undefined;
  /** Only dead letters written by this service (several services may dead-letter the same record). */
  service?: string | undefined;
  /** Key each record by the customerId it carries: the fix for records produced with a wrong key. */
  rekey?: boolean | undefined;
  /** Report what would be replayed without producing. */
  dryRun?: boolean | undefined;
}

export interface ReplayReport {
  replayed: DeadLetter[];
  skipped: Array<{ letter: DeadLetter; why: string }>;
}

/**
 * Puts the dead letters of `topic` that pass the filter back on their source topic:
 * the original value and headers (the churn.* reasons removed, `churn.replayed-from`
 * added), under the original key or, with `rekey`, the record's customerId. A source
 * record dead-lettered by several services is replayed once.
 */
export async function replayDeadLetters(
  config: KafkaServiceConfig,
  topic: string,
  filter: ReplayFilter,
  idleMs = 3000,
): Promise<ReplayReport> {
  const report: ReplayReport = { replayed: [], skipped: [] };
  const serde = serdeOf(config);
  const producer = kafkaOf(config).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  const seen = new Set<string>();
  if (!filter.dryRun) await producer.connect();
  try {
    await consume(
      config,
      topic,
      filter.dryRun ? `churnctl-dlq-dry-run-${crypto.randomUUID()}` : `churnctl-dlq-replay.${topic}`,
      idleMs,
      async (partition, message) => {
        const letter = deadLetterOf(partition, message);
        const skip = (why: string) => {
          report.skipped.push({ letter, why });
          return true;
        };
        if (filter.code && letter.code !== filter.code) return skip(`code ${letter.code}`);
        if (filter.service && letter.service !== filter.service) return skip(`service ${letter.service}`);
        if (!isTopicName(letter.sourceTopic))
          return skip(`source topic ${letter.sourceTopic || '(none)'} is not a contract topic`);
        const source = `${letter.sourceTopic}/${letter.sourcePartition}/${letter.sourceOffset}`;
        if (seen.has(source)) return skip('already replayed from another service');
        let key = message.key;
        if (filter.rekey) {
          try {
            const { value } = await serde.decode(letter.sourceTopic as TopicName, message.value);
            const customerId = customerIdOf(value);
            if (customerId === null) return skip('record has no customerId to key it by');
            key = Buffer.from(customerId);
          } catch (err) {
            return skip(`cannot re-key: ${(err as Error).message}`);
          }
        }
        const headers: IHeaders = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) {
          if (!name.startsWith('churn.') && value !== undefined) headers[name] = value;
        }
        headers['churn.replayed-from'] = `${topic}/${partition}/${message.offset}`;
        if (!filter.dryRun)
          await producer.send({ topic: letter.sourceTopic, messages: [{ key, value: message.value, headers }] });
        seen.add(source);
        report.replayed.push(letter);
        return true;
      },
      Boolean(filter.dryRun),
    );
  } finally {
    if (!filter.dryRun) await producer.disconnect();
  }
  return report;
}
