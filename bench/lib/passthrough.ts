/**
 * The reference: raw passthrough of the backlog's bytes, no decoding or processing.
 * A consumer (eachBatch, the pipeline's fetch settings) re-produces every record, key,
 * value and headers unchanged, to an output topic with the same partition count and
 * into the same partition, in chunks of at most 1 000 records (the pipeline's
 * transaction size), acks=all, with the pipeline's producer settings:
 *
 * - at_least_once: one idempotent producer; offsets committed after the chunk is acknowledged.
 * - exactly_once: one transactional producer per input partition, one transaction per
 *   chunk holding the records and the consumed offsets (chunks of one partition one at a
 *   time, as the pipeline's partition lock has them).
 *
 * `groups` consumer groups run at once, each copying its own set of input topics: one
 * group over every input topic is the plain reference; one group per pipeline service
 * with that service's inputs reads and writes what the pipeline's clients do, without
 * the processing ("fan-out").
 *
 * The same with @platformatic/kafka (pure JS; at-least-once) tells whether the client
 * is the ceiling.
 */
import { Consumer as PConsumer, type Message as PlatformaticMessage, Producer as PProducer } from '@platformatic/kafka';
import type { Kafka, Producer } from 'kafkajs';
import {
  benchKafka,
  countRecords,
  createTopics,
  deleteGroups,
  deleteTopics,
  endpoints,
  PARTITIONS,
  pipelineLikeProducer,
  progress,
  summarize,
} from './common.ts';

export type Guarantee = 'at_least_once' | 'exactly_once';
export type Client = 'kafkajs' | 'platformatic';

export interface PassthroughArgs {
  client: Client;
  guarantee: Guarantee;
  /** Input topics per consumer group. */
  groups: string[][];
  warmups: number;
  reps: number;
}

const CHUNK = 1_000;
const OUT_PREFIX = 'bench.passthrough.';

interface GroupRun {
  /** When the group's partitions were assigned (ms, performance.now()). */
  readonly assignedAt: number;
  /** When the group had copied every record of its inputs. */
  readonly doneAt: number;
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

function outputOf(group: number, topic: string): string {
  return `${OUT_PREFIX}${group}.${topic}`;
}

/** Serialises work per key (a partition's transactions). */
class Locks {
  readonly #tails = new Map<number, Promise<unknown>>();
  run<T>(key: number, work: () => Promise<T>): Promise<T> {
    const run = (this.#tails.get(key) ?? Promise.resolve()).then(work, work);
    this.#tails.set(
      key,
      run.catch(() => {}),
    );
    return run;
  }
}

async function kafkajsGroup(
  kafka: Kafka,
  index: number,
  inputs: string[],
  guarantee: Guarantee,
  total: number,
): Promise<GroupRun> {
  const groupId = `bench-passthrough-${index}-${crypto.randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  const producers = new Map<number, Producer>();
  let shared: Producer | null = null;
  if (guarantee === 'exactly_once') {
    for (let p = 0; p < PARTITIONS; p++) {
      const producer = pipelineLikeProducer(kafka, `${groupId}-${p}`);
      await producer.connect();
      producers.set(p, producer);
    }
  } else {
    shared = pipelineLikeProducer(kafka);
    await shared.connect();
  }
  const locks = new Locks();
  let copied = 0;
  let assignedAt = 0;
  let doneAt = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    assignedAt ||= performance.now();
  });
  await consumer.connect();
  await consumer.subscribe({ topics: inputs, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: inputs.length * PARTITIONS,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const out = outputOf(index, batch.topic);
      for (let i = 0; i < batch.messages.length; i += CHUNK) {
        const chunk = batch.messages.slice(i, i + CHUNK);
        const last = chunk.at(-1)!.offset;
        const messages = chunk.map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers,
          partition: batch.partition,
        }));
        const next = (BigInt(last) + 1n).toString();
        if (guarantee === 'exactly_once') {
          await locks.run(batch.partition, async () => {
            const txn = await producers.get(batch.partition)!.transaction();
            try {
              await txn.sendBatch({ topicMessages: [{ topic: out, messages }], acks: -1 });
              await txn.sendOffsets({
                consumerGroupId: groupId,
                topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
              });
              await txn.commit();
            } catch (err) {
              await txn.abort().catch(() => {});
              throw err;
            }
          });
        } else {
          await shared!.sendBatch({ topicMessages: [{ topic: out, messages }], acks: -1 });
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        }
        resolveOffset(last);
        await heartbeat();
        copied += chunk.length;
        if (copied >= total && !doneAt) {
          doneAt = performance.now();
          finish();
        }
      }
    },
  });
  return {
    get assignedAt() {
      return assignedAt;
    },
    get doneAt() {
      return doneAt;
    },
    stop: async () => {
      await done;
      await consumer.disconnect();
      for (const p of [shared, ...producers.values()]) await p?.disconnect();
    },
    done,
  };
}

async function platformaticGroup(index: number, inputs: string[], total: number): Promise<GroupRun> {
  const brokers = endpoints().brokers.split(',');
  const groupId = `bench-passthrough-${index}-${crypto.randomUUID()}`;
  const consumer = new PConsumer({
    clientId: 'churn-bench',
    bootstrapBrokers: brokers,
    groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  const producer = new PProducer({ clientId: 'churn-bench', bootstrapBrokers: brokers, idempotent: true, acks: -1 });
  let copied = 0;
  let assignedAt = 0;
  let doneAt = 0;
  let finish: () => void = () => {};
  let fail: (err: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const stream = await consumer.consume({
    topics: inputs,
    mode: 'earliest',
    autocommit: false,
    maxWaitTime: 100,
    isolationLevel: 1,
  });
  assignedAt = performance.now();
  let pending: PlatformaticMessage[] = [];
  let flushing = false;
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      while (pending.length > 0) {
        const chunk = pending.slice(0, CHUNK);
        pending = pending.slice(chunk.length);
        if (pending.length < CHUNK * 5 && stream.isPaused()) stream.resume();
        await producer.send({
          messages: chunk.map((m) => ({
            topic: outputOf(index, m.topic),
            partition: m.partition,
            key: m.key,
            value: m.value,
            headers: m.headers,
          })),
        });
        const offsets = new Map<string, { topic: string; partition: number; offset: bigint; leaderEpoch: number }>();
        for (const m of chunk)
          offsets.set(`${m.topic}/${m.partition}`, {
            topic: m.topic,
            partition: m.partition,
            offset: m.offset + 1n,
            leaderEpoch: m.leaderEpoch,
          });
        await consumer.commit({ offsets: [...offsets.values()] });
        copied += chunk.length;
        if (copied >= total && !doneAt) {
          doneAt = performance.now();
          finish();
        }
      }
    } catch (err) {
      fail(err);
    } finally {
      flushing = false;
    }
  };
  stream.on('data', (m: PlatformaticMessage) => {
    pending.push(m);
    if (pending.length >= CHUNK * 5) stream.pause();
    if (!flushing) setImmediate(() => void flush());
  });
  stream.on('error', fail);
  return {
    get assignedAt() {
      return assignedAt;
    },
    get doneAt() {
      return doneAt;
    },
    stop: async () => {
      await done;
      await stream.close();
      await consumer.close();
      await producer.close();
    },
    done,
  };
}

export interface PassthroughRun {
  events: number;
  seconds: number;
  /** CPU seconds of this process (user + system) over the repetition. */
  cpuSeconds: number;
  eventsPerSecond: number;
}

/** One repetition: fresh output topics and groups, every group copies its inputs, timed from the first assignment. */
async function once(kafka: Kafka, args: PassthroughArgs, totals: number[]): Promise<PassthroughRun> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await deleteTopics(admin, (t) => t.startsWith(OUT_PREFIX));
    await deleteGroups(admin, (g) => g.startsWith('bench-passthrough-'));
    await createTopics(
      admin,
      args.groups.flatMap((inputs, i) => inputs.map((t) => outputOf(i, t))),
    );
  } finally {
    await admin.disconnect();
  }
  const cpu = process.cpuUsage();
  const runs: GroupRun[] = [];
  for (const [i, inputs] of args.groups.entries()) {
    runs.push(
      args.client === 'kafkajs'
        ? await kafkajsGroup(kafka, i, inputs, args.guarantee, totals[i]!)
        : await platformaticGroup(i, inputs, totals[i]!),
    );
  }
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('passthrough did not finish within 10 minutes')), 600_000).unref(),
  );
  await Promise.race([Promise.all(runs.map((r) => r.done)), timeout]);
  const start = Math.min(...runs.map((r) => r.assignedAt));
  const end = Math.max(...runs.map((r) => r.doneAt));
  const used = process.cpuUsage(cpu);
  for (const r of runs) await r.stop();
  const events = totals.reduce((a, b) => a + b, 0);
  const seconds = (end - start) / 1000;
  return { events, seconds, cpuSeconds: (used.user + used.system) / 1e6, eventsPerSecond: events / seconds };
}

export async function run(args: PassthroughArgs) {
  const kafka = benchKafka('churn-bench-passthrough');
  const admin = kafka.admin();
  await admin.connect();
  const counts = await countRecords(admin, [...new Set(args.groups.flat())]);
  await admin.disconnect();
  const totals = args.groups.map((inputs) => inputs.reduce((n, t) => n + (counts.get(t) ?? 0), 0));
  const inputEvents = [...counts.values()].reduce((a, b) => a + b, 0);
  const label = `${args.client} ${args.guarantee}${args.groups.length > 1 ? `, ${args.groups.length} groups` : ''}`;
  const runs: PassthroughRun[] = [];
  for (let i = 0; i < args.warmups + args.reps; i++) {
    const r = await once(kafka, args, totals);
    const warm = i < args.warmups;
    progress(
      `passthrough ${label} ${warm ? 'warm-up' : `rep ${i - args.warmups + 1}/${args.reps}`}: ${r.events} records copied in ${r.seconds.toFixed(2)} s, ${Math.round(inputEvents / r.seconds)} input events/s, ${Math.round(inputEvents / r.cpuSeconds)} per CPU second`,
    );
    if (!warm) runs.push(r);
  }
  const admin2 = kafka.admin();
  await admin2.connect();
  await deleteTopics(admin2, (t) => t.startsWith(OUT_PREFIX));
  await admin2.disconnect();
  return {
    client: args.client,
    guarantee: args.guarantee,
    groups: args.groups.length,
    inputEvents,
    recordsCopiedPerRep: totals.reduce((a, b) => a + b, 0),
    /** Input events per second: the backlog's events over the time every group took to copy its inputs. */
    eventsPerSecond: summarize(runs.map((r) => inputEvents / r.seconds)),
    /** Input events per CPU second of this process (start-up of the clients included). */
    eventsPerCpuSecond: summarize(runs.map((r) => inputEvents / r.cpuSeconds)),
    /** Records copied per second (all groups). */
    recordsPerSecond: summarize(runs.map((r) => r.eventsPerSecond)),
    seconds: summarize(
      runs.map((r) => r.seconds),
      2,
    ),
  };
}
