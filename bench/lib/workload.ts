/**
 * The benchmark's input: a population from `churnctl generate` (the same mix of
 * profiles, invoices, surveys, cancellations and outcomes), encoded once as the
 * pipeline's producers would write it (Avro, Confluent wire format, through the
 * registry), and put on the input topics as a backlog.
 */
import { generatePopulation, type OfflineEvent } from '@churn/cli';
import type { Kafka } from 'kafkajs';
import {
  benchSerde,
  createTopics,
  deleteGroups,
  deleteTopics,
  type EncodedRecord,
  INPUT_TOPICS,
  produceAll,
  progress,
} from './common.ts';

export interface WorkloadOptions {
  customers: number;
  months: number;
  seed: number;
  /** Start of the generated window (epoch ms); see GenerateOptions.start. */
  start?: number;
  idPrefix?: string;
}

export function generate(options: WorkloadOptions): OfflineEvent[] {
  return generatePopulation({
    customers: options.customers,
    months: options.months,
    seed: options.seed,
    ...(options.start !== undefined ? { start: options.start } : {}),
    ...(options.idPrefix !== undefined ? { idPrefix: options.idPrefix } : {}),
  });
}

/** Encodes events as the pipeline's producers do (contract validation, Avro through the registry). */
export async function encode(events: readonly OfflineEvent[]): Promise<EncodedRecord[]> {
  const serde = benchSerde();
  const out: EncodedRecord[] = [];
  for (const e of events) out.push({ topic: e.topic, key: e.key, value: await serde.encode(e.topic, e.value) });
  return out;
}

export function countByTopic(records: readonly { topic: string }[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const r of records) by[r.topic] = (by[r.topic] ?? 0) + 1;
  return by;
}

/**
 * Wipes the broker of every topic and consumer group but Kafka's own, creates the
 * input topics and fills them with the workload: the backlog every throughput figure
 * reads.
 */
export async function fillBacklog(kafka: Kafka, options: WorkloadOptions): Promise<{ events: number; bytes: number }> {
  const events = generate(options);
  progress(`generated ${events.length} events (${options.customers} customers, ${options.months} months); encoding`);
  const records = await encode(events);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await deleteGroups(admin, () => true);
    await deleteTopics(admin, () => true);
    await createTopics(admin, INPUT_TOPICS);
  } finally {
    await admin.disconnect();
  }
  progress(`producing the backlog of ${records.length} records onto ${INPUT_TOPICS.length} input topics`);
  await produceAll(kafka, records, (n) => progress(`  ${n} records produced`));
  return { events: records.length, bytes: records.reduce((n, r) => n + r.value.length + r.key.length, 0) };
}
