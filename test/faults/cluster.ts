/**
 * The fault suite's hold on the cluster: an empty slate per scenario, the broker and
 * registry stopped and started through the local infra scripts, the input produced,
 * and everything that comes out read back with read_committed consumers.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { avroSchemas } from '@churn/contracts';
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

/**
 * Puts the input on its topics, in order, bad records as they are: one transaction per
 * 500 records, aborted and sent again when the broker refuses it (a topic just created
 * can answer out-of-sequence to an idempotent producer's first retry), so each record is
 * on its topic exactly once for read_committed readers.
 */
export async function produceInput(env: ClusterEnv, input: FaultInput, serde: ContractSerde): Promise<void> {
  const kafka = kafkaOf(env, 'churn-faults-producer');
  const connect = async () => {
    const p = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionalId: `churn-faults-input-${crypto.randomUUID()}`,
    });
    await p.connect();
    return p;
  };
  let producer = await connect();
  const types = new Map<string, avro.Type>();
  const typeOf = (record: keyof typeof avroSchemas) => {
    let t = types.get(record);
    if (!t) {
      t = avro.Type.forSchema(avroSchemas[record] as avro.Schema);
      types.set(record, t);
    }
    return t;
  };
  try {
    const batch: Array<{ topic: string; key: string | null; value: Buffer; headers?: IHeaders }> = [];
    const flush = async () => {
      // One topic-message list in file order: a partition's records keep their order.
      const byTopic = new Map<string, Array<{ key: string | null; value: Buffer; headers?: IHeaders }>>();
      for (const m of batch) {
        const list = byTopic.get(m.topic) ?? [];
        list.push({ key: m.key, value: m.value, ...(m.headers ? { headers: m.headers } : {}) });
        byTopic.set(m.topic, list);
      }
      const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      for (let attempt = 1; ; attempt++) {
        const txn = await producer.transaction();
        try {
          await txn.sendBatch({ topicMessages, acks: -1 });
          await txn.commit();
          break;
        } catch (err) {
          await txn.abort().catch(() => {});
          if (attempt >= 5) throw err;
          await producer.disconnect().catch(() => {});
          await new Promise((r) => setTimeout(r, 500 * attempt));
          producer = await connect();
        }
      }
      batch.length = 0;
    };
    for (const r of input.records) {
      if (r.kind === 'good' || r.kind === 'duplicate') {
        const value = await serde.encode(r.event.topic, r.event.value);
        batch.push({
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
        batch.push({ topic: r.topic, key: r.key, value: value as Buffer, headers: { [FAULT_HEADER]: r.id } });
      }
      if (batch.length >= 500) await flush();
    }
    if (batch.length > 0) await flush();
  } finally {
    await producer.disconnect();
  }
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
 * however often the consumer re-reads after a broker restart.
 */
export class Reader {
  readonly #seen = new Map<string, Seen>();
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

  async start(topics: readonly string[]): Promise<this> {
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [...topics], fromBeginning: true });
    await this.#consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: topics.length * PARTITIONS,
      eachBatch: async ({ batch }) => {
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
