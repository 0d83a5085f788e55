/**
 * The fault suite's hold on the cluster: an empty slate per scenario, the broker and
 * registry stopped and started through the local infra scripts, the input produced,
 * and everything that comes out read back with read_committed consumers.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { avroSchemas, recordOfTopic } from '@churn/contracts';
import type { ContractSerde } from '@churn/serde';
import avro from 'avsc';
import { type Admin, type Consumer, type IHeaders, Kafka, logLevel, Partitioners } from 'kafkajs';
import { emptyCluster } from '../support/empty-cluster.ts';
import { FAULT_HEADER, type FaultInput, PARTITIONS } from './input.ts';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../..');

export interface ClusterEnv {
  brokers: string;
  registryUrl: string;
}

export function kafkaOf(env: ClusterEnv, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: env.brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 3000 },
  });
}

/** Runs an infra script (`up.sh kafka`, `down.sh registry --kill`, ...). */
export async function infra(script: 'up' | 'down', ...args: string[]): Promise<void> {
  await run('bash', [resolve(repoRoot, `infra/local/${script}.sh`), ...args], { cwd: repoRoot, env: process.env });
}

async function withAdmin<T>(env: ClusterEnv, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafkaOf(env, 'churn-faults-admin').admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes every topic and consumer group but Kafka's own, then creates the contract topics afresh. */
export async function resetCluster(env: ClusterEnv): Promise<void> {
  await withAdmin(env, (admin) => emptyCluster(admin, PARTITIONS));
}

/** An input record in bytes, ready to produce. */
export interface Outgoing {
  topic: string;
  key: string | null;
  value: Buffer;
  headers?: IHeaders;
}

/**
 * The input in bytes, in file order, bad records as they are. Encoded before anything is
 * produced, so that producing needs no registry (a live input goes on while it is away).
 */
export async function encodeInput(input: FaultInput, serde: ContractSerde): Promise<Outgoing[]> {
  const types = new Map<string, avro.Type>();
  const typeOf = (record: keyof typeof avroSchemas) => {
    let t = types.get(record);
    if (!t) {
      t = avro.Type.forSchema(avroSchemas[record] as avro.Schema);
      types.set(record, t);
    }
    return t;
  };
  const out: Outgoing[] = [];
  for (const r of input.records) {
    if (r.kind === 'good' || r.kind === 'duplicate') {
      const value = await serde.encode(r.event.topic, r.event.value);
      out.push({
        topic: r.event.topic,
        key: r.event.key,
        value,
        ...(r.kind === 'duplicate' ? { headers: { [FAULT_HEADER]: r.id } } : {}),
      });
    } else {
      let value = r.bytes;
      if (!value && r.raw) {
        const id = await serde.schemaIdOf(r.raw.schemaOf);
        const header = Buffer.alloc(5);
        header.writeInt32BE(id, 1);
        const body = typeOf(r.raw.record).toBuffer(r.raw.value);
        value = Buffer.concat([header, r.raw.truncate ? body.subarray(0, Math.floor(body.length * 0.6)) : body]);
      }
      out.push({ topic: r.topic, key: r.key, value: value as Buffer, headers: { [FAULT_HEADER]: r.id } });
    }
  }
  return out;
}

/** What producing the input took: transactions, and those sent again after a failure. */
export interface ProduceStats {
  transactions: number;
  retried: number;
  /** Transactions whose commit failed but that were found committed (not sent again). */
  foundCommitted: number;
}

/**
 * Whether the record at `offset` of a partition is visible to read_committed readers:
 * after a transaction whose commit failed, once its producer's successor has resolved it.
 */
async function committedAt(env: ClusterEnv, topic: string, partition: number, offset: string): Promise<boolean> {
  const consumer = kafkaOf(env, 'churn-faults-check').consumer({
    groupId: `churn-faults-check-${crypto.randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  try {
    let answer: boolean | null = null;
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const first = batch.messages[0];
        if (batch.partition === partition && first && answer === null) answer = BigInt(first.offset) === BigInt(offset);
      },
    });
    consumer.seek({ topic, partition, offset });
    // Nothing after it within the wait: aborted, and nothing produced since.
    for (let i = 0; i < 100 && answer === null; i++) await new Promise((r) => setTimeout(r, 200));
    return answer ?? false;
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

/**
 * Puts the records on their topics, in order: one transaction per chunk of at most 500,
 * so each record is on its topic exactly once for read_committed readers. A transaction
 * the broker refuses (a topic just created can answer out-of-sequence to an idempotent
 * producer's first retry; a broker that is restarted answers nothing) is aborted and sent
 * again by a producer with the same transactional id, which fences the old one; one
 * whose commit failed is first looked for, and sent again only when it did not land.
 *
 * `allowed(now)` says how many records may be on the topics by now: all of them for a
 * backlog, a steady share of them for a live input.
 */
export async function produceInput(
  env: ClusterEnv,
  messages: readonly Outgoing[],
  allowed: (now: number) => number = () => messages.length,
  onProduced: (count: number) => void = () => {},
): Promise<ProduceStats> {
  const kafka = kafkaOf(env, 'churn-faults-producer');
  const transactionalId = `churn-faults-input-${crypto.randomUUID()}`;
  const stats: ProduceStats = { transactions: 0, retried: 0, foundCommitted: 0 };
  const connect = async () => {
    const p = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionalId,
    });
    await p.connect();
    return p;
  };
  let producer = await connect();
  try {
    let produced = 0;
    while (produced < messages.length) {
      const upTo = Math.min(messages.length, allowed(Date.now()), produced + 500);
      if (upTo <= produced) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const batch = messages.slice(produced, upTo);
      // One topic-message list in file order: a partition's records keep their order.
      const byTopic = new Map<string, Array<{ key: string | null; value: Buffer; headers?: IHeaders }>>();
      for (const m of batch) {
        const list = byTopic.get(m.topic) ?? [];
        list.push({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) });
        byTopic.set(m.topic, list);
      }
      const topicMessages = [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
      for (let attempt = 1; ; attempt++) {
        let sent: Array<{ topicName: string; partition: number; baseOffset?: string }> | null = null;
        const txn = await producer.transaction();
        try {
          sent = await txn.sendBatch({ topicMessages, acks: -1 });
          await txn.commit();
          break;
        } catch (err) {
          if (sent === null) await txn.abort().catch(() => {});
          if (attempt >= 10) throw err;
          await producer.disconnect().catch(() => {});
          await new Promise((r) => setTimeout(r, 500 * Math.min(attempt, 4)));
          // The successor's start resolves the transaction: commits it when the commit
          // was under way, aborts it otherwise.
          producer = await connect();
          const first = sent?.find((m) => m.baseOffset !== undefined);
          if (first && (await committedAt(env, first.topicName, first.partition, first.baseOffset as string))) {
            stats.foundCommitted++;
            break;
          }
          stats.retried++;
        }
      }
      stats.transactions++;
      produced = upTo;
      onProduced(produced);
    }
  } finally {
    await producer.disconnect();
  }
  return stats;
}

export interface Seen {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: unknown;
  headers: Record<string, string>;
  at: number;
}

/**
 * Reads topics from the beginning with read_committed, decoding contract records and
 * keeping dead letters' headers. A record is kept once per (topic, partition, offset),
 * however often the consumer re-reads after a broker restart. Input topics, when given,
 * are only watched: the order in which their event ids first became readable is kept
 * (records that do not decode are passed over).
 */
export class Reader {
  readonly #seen = new Map<string, Seen>();
  /** "topic eventId" -> the order in which it first became readable. */
  readonly #arrivals = new Map<string, number>();
  readonly #types = new Map<string, avro.Type>();
  readonly #consumer: Consumer;
  readonly #serde: ContractSerde;
  lastAt = 0;
  constructor(env: ClusterEnv, serde: ContractSerde) {
    this.#serde = serde;
    this.#consumer = kafkaOf(env, 'churn-faults-reader').consumer({
      groupId: `churn-faults-reader-${crypto.randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: 200,
      sessionTimeout: 30_000,
    });
  }

  async start(topics: readonly string[], watched: readonly string[] = []): Promise<this> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [...topics, ...watched], fromBeginning: true });
    await this.#consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: (topics.length + watched.length) * PARTITIONS,
      eachBatch: async ({ batch }) => {
        if (watched.includes(batch.topic)) {
          for (const m of batch.messages) {
            const id = await this.#eventIdOf(batch.topic, m.value);
            const key = `${batch.topic} ${id}`;
            if (typeof id === 'string' && !this.#arrivals.has(key)) this.#arrivals.set(key, this.#arrivals.size);
          }
          return;
        }
        for (const m of batch.messages) {
          const id = `${batch.topic}/${batch.partition}/${m.offset}`;
          if (this.#seen.has(id)) continue;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(v);
          const dlq = batch.topic.endsWith('.dlq');
          const value = dlq ? null : (await this.#serde.decode(batch.topic, m.value)).value;
          this.#seen.set(id, {
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key?.toString('utf8') ?? null,
            value,
            headers,
            at: Date.now(),
          });
          this.lastAt = Date.now();
        }
      },
    });
    return this;
  }

  /**
   * The event id of a record written with this build's schema of `topic` (its id is
   * cached: no registry call, the registry may be away), or null.
   */
  async #eventIdOf(topic: string, value: Buffer | null): Promise<string | null> {
    if (!value || value.length < 5 || value[0] !== 0) return null;
    try {
      if (value.readInt32BE(1) !== (await this.#serde.schemaIdOf(topic))) return null;
      let type = this.#types.get(topic);
      if (!type) {
        type = avro.Type.forSchema(avroSchemas[recordOfTopic(topic)] as avro.Schema);
        this.#types.set(topic, type);
      }
      const id = (type.fromBuffer(value.subarray(5)) as { eventId?: unknown }).eventId;
      return typeof id === 'string' ? id : null;
    } catch {
      return null;
    }
  }

  /** When the event `eventId` of `topic` first became readable (an order), if it did. */
  arrivalOf(topic: string, eventId: string): number | undefined {
    return this.#arrivals.get(`${topic} ${eventId}`);
  }

  of(topic: string): Seen[] {
    return [...this.#seen.values()].filter((s) => s.topic === topic);
  }

  count(): number {
    return this.#seen.size;
  }

  /** Records seen after `time` (wall clock). */
  seenAfter(time: number): number {
    let n = 0;
    for (const s of this.#seen.values()) if (s.at > time) n++;
    return n;
  }

  async stop(): Promise<void> {
    await this.#consumer.disconnect();
  }
}
