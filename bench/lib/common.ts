/**
 * What every figure of the benchmark shares: where the broker and registry are, Kafka
 * clients, wiping topics and consumer groups between repetitions, the generated
 * workload on the input topics, statistics and progress lines.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputTopics, topicCatalogue } from '@churn/contracts';
import { loadPolicy, type Policy } from '@churn/domain';
import {
  DEFAULT_POLICY_FILE,
  ensureTopics,
  type KafkaServiceConfig,
  kafkaServiceEnv,
  parseConfig,
  readJsonFile,
  topicsOf,
} from '@churn/runtime';
import { ContractSerde } from '@churn/serde';
import { type Admin, Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PARTITIONS = 3;
/** The pipeline's input topics that `churnctl generate` writes. */
export const INPUT_TOPICS = inputTopics;

/** Where the broker and registry are; set by run.ts for every worker. */
export interface Endpoints {
  brokers: string;
  registryUrl: string;
}

export function endpoints(): Endpoints {
  const brokers = process.env.KAFKA_BROKERS;
  const registryUrl = process.env.SCHEMA_REGISTRY_URL;
  if (!brokers || !registryUrl) throw new Error('KAFKA_BROKERS and SCHEMA_REGISTRY_URL must be set');
  return { brokers, registryUrl };
}

/** Service configuration for the pipeline under test (no signal handlers, metrics on a free port). */
export function serviceConfig(env: Record<string, string> = {}): KafkaServiceConfig {
  const { brokers, registryUrl } = endpoints();
  return parseConfig(kafkaServiceEnv, {
    KAFKA_BROKERS: brokers,
    SCHEMA_REGISTRY_URL: registryUrl,
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    TICK_INTERVAL_MS: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'fatal',
    TOPIC_PARTITIONS: String(PARTITIONS),
    ...env,
  });
}

export function policy(): Policy {
  return loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));
}

export function benchKafka(clientId = 'churn-bench'): Kafka {
  return new Kafka({
    clientId,
    brokers: endpoints().brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
  });
}

export function benchSerde(): ContractSerde {
  return new ContractSerde({ url: endpoints().registryUrl, clientId: 'churn-bench' });
}

/** The producer settings of the pipeline (idempotent, murmur2 partitioning like Java clients). */
export function pipelineLikeProducer(kafka: Kafka, transactionalId?: string): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
    ...(transactionalId ? { transactionalId, transactionTimeout: 60_000 } : {}),
  });
}

// ------------------------------------------------------------------ progress and statistics

const started = Number(process.env.BENCH_STARTED_AT ?? Date.now());
/** A progress line on stderr, with the seconds since the harness started. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(samples: readonly number[], digits = 0): Summary {
  if (samples.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, samples: [] };
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (n: number) => Number(n.toFixed(digits));
  return { median: round(median), min: round(sorted[0]!), max: round(sorted.at(-1)!), samples: samples.map(round) };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Load and CPUs now: every figure records them, since the machine may be shared. */
export function machineNow() {
  return { loadavg: loadavg().map((l) => Number(l.toFixed(2))), cpus: cpus().length };
}

export function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

// ------------------------------------------------------------------ topics and groups

/**
 * Deletes the topics `which` selects (never Kafka's own `__` topics) and waits until
 * the broker no longer lists them, so that they can be created again at once.
 */
export async function deleteTopics(admin: Admin, which: (topic: string) => boolean): Promise<string[]> {
  const doomed = (await admin.listTopics()).filter((t) => !t.startsWith('__') && which(t));
  if (doomed.length === 0) return [];
  await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
  await until(
    `${doomed.length} topics to be deleted`,
    async () => {
      const left = new Set(await admin.listTopics());
      return doomed.every((t) => !left.has(t));
    },
    60_000,
    200,
  );
  return doomed;
}

/** Deletes the consumer groups `which` selects (groups with members are left alone by the broker). */
export async function deleteGroups(admin: Admin, which: (group: string) => boolean): Promise<void> {
  const { groups } = await admin.listGroups();
  const doomed = groups.map((g) => g.groupId).filter(which);
  if (doomed.length > 0) await admin.deleteGroups(doomed).catch(() => {});
}

/** Creates the topics with the pipeline's partition count (compacted as the catalogue says). */
export async function createTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  await ensureTopics(admin, topicsOf(topics, []), PARTITIONS, 1);
}

/** Every topic of the contract catalogue. */
export function catalogueTopics(): string[] {
  return topicCatalogue.map((t) => t.topic as string);
}

// ------------------------------------------------------------------ the workload

export interface EncodedRecord {
  topic: string;
  key: string;
  value: Buffer;
}

/**
 * Produces records in file order with the pipeline's producer settings, in batches of
 * `batch` (acks=all). Calls `onProgress` with the count every 20 000 records.
 */
export async function produceAll(
  kafka: Kafka,
  records: readonly EncodedRecord[],
  onProgress?: (n: number) => void,
  batch = 2_000,
): Promise<void> {
  const producer = pipelineLikeProducer(kafka);
  await producer.connect();
  try {
    let next = 20_000;
    for (let i = 0; i < records.length; i += batch) {
      const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
      for (const r of records.slice(i, i + batch)) {
        const list = byTopic.get(r.topic);
        if (list) list.push({ key: r.key, value: r.value });
        else byTopic.set(r.topic, [{ key: r.key, value: r.value }]);
      }
      await producer.sendBatch({
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        acks: -1,
      });
      if (i + batch >= next) {
        onProgress?.(Math.min(records.length, i + batch));
        next += 20_000;
      }
    }
  } finally {
    await producer.disconnect();
  }
}

/** End offsets per topic and partition (the high watermarks). */
export async function endOffsets(admin: Admin, topics: readonly string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) {
    for (const { partition, high } of await admin.fetchTopicOffsets(topic))
      ends.set(`${topic}/${partition}`, BigInt(high));
  }
  return ends;
}

/** Records per topic of a topic set (sum of high - low over partitions). */
export async function countRecords(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const topic of topics) {
    let n = 0;
    for (const { high, low } of await admin.fetchTopicOffsets(topic)) n += Number(high) - Number(low);
    counts.set(topic, n);
  }
  return counts;
}
