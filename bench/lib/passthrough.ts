/**
 * The reference: raw passthrough of the backlog's bytes, no decoding or processing.
 * A consumer (the pipeline's fetch settings) re-produces every record, key, value and
 * headers unchanged, to an output topic with the same partition count and into the same
 * partition, acks=all, idempotent:
 *
 * - at_least_once: one idempotent producer, chunks of at most 1 000 records; offsets
 *   committed after the chunk is acknowledged.
 * - exactly_once: transactions holding the records and the consumed offsets, read_committed
 *   consumer. By default as the pipeline has them: one transactional producer per input
 *   partition, one transaction per chunk of at most 1 000 records, the partition's next
 *   chunk fetched only once its transaction has committed. `txn` changes that:
 *   - producers 'instance': one transactional producer for every partition of the group
 *     (EOS v2 style: what arrives while a transaction commits goes into the next one);
 *   - maxRecords: the most records a transaction holds;
 *   - intervalMs: a transaction stays open this long taking what arrives (Kafka Streams'
 *     commit.interval.ms), unless it is full first;
 *   - pipeline: the consumer goes on fetching while transactions commit (at most
 *     maxPending records waiting per producer).
 *
 * Both clients run the same loop: kafkajs (eachBatch) and @platformatic/kafka (pure JS;
 * a message stream, its transactions with the consumer's group metadata). `verify` reads
 * every input and output topic back (read_committed) after the last repetition and fails
 * the figure unless every output partition holds exactly its input partition's records,
 * in order, none lost or duplicated.
 *
 * `groups` consumer groups run at once, each copying its own set of input topics: one
 * group over every input topic is the plain reference; one group per pipeline service
 * with that service's inputs reads and writes what the pipeline's clients do, without
 * the processing ("fan-out").
 */
import { createHash } from 'node:crypto';
import { Consumer as PConsumer, type Message as PlatformaticMessage, Producer as PProducer } from '@platformatic/kafka';
import type { Kafka, Producer } from 'kafkajs';
import {
  benchKafka,
  countRecords,
  createTopics,
  deleteGroups,
  deleteTopics,
  endOffsets,
  endpoints,
  PARTITIONS,
  pipelineLikeProducer,
  progress,
  summarize,
} from './common.ts';

export type Guarantee = 'at_least_once' | 'exactly_once';
export type Client = 'kafkajs' | 'platformatic';

/** How exactly-once passthrough cuts its transactions (see the module comment). */
export interface TxnOptions {
  producers: 'partition' | 'instance';
  maxRecords: number;
  intervalMs: number;
  pipeline: boolean;
  maxPending: number;
}

export const DEFAULT_TXN: TxnOptions = {
  producers: 'partition',
  maxRecords: 1_000,
  intervalMs: 0,
  pipeline: false,
  maxPending: 20_000,
};

/** Other ways of cutting the transactions, for both clients (`npm run bench -- --txn-variants`). */
const SHAPES: Record<string, Partial<TxnOptions>> = {
  /** One transaction per fetched batch of a partition. */
  Batch: { maxRecords: 20_000 },
  /** One producer for the group's partitions: batches that arrive during a commit share the next transaction. */
  Instance: { producers: 'instance', maxRecords: 20_000 },
  /** A producer per partition; fetching goes on while transactions commit. */
  Pipelined: { pipeline: true, maxRecords: 20_000 },
  /** As Pipelined, transactions open for 100 ms (Kafka Streams' exactly-once commit interval). */
  Interval100: { pipeline: true, intervalMs: 100, maxRecords: 100_000 },
  /** One producer, pipelined. */
  InstancePipelined: { producers: 'instance', pipeline: true, maxRecords: 20_000 },
  /** One producer, pipelined, transactions open for 100 ms. */
  InstanceInterval100: { producers: 'instance', pipeline: true, intervalMs: 100, maxRecords: 100_000 },
};

export const TXN_VARIANTS: Record<string, { client: Client; txn: Partial<TxnOptions> }> = Object.fromEntries(
  (['kafkajs', 'platformatic'] as const).flatMap((client) =>
    Object.entries(SHAPES).map(([shape, txn]) => [
      `passthrough${client === 'kafkajs' ? 'Kafkajs' : 'Platformatic'}Txn${shape}`,
      { client, txn },
    ]),
  ),
);

export interface PassthroughArgs {
  client: Client;
  guarantee: Guarantee;
  /** Input topics per consumer group. */
  groups: string[][];
  warmups: number;
  reps: number;
  txn?: Partial<TxnOptions>;
  /** Reads inputs and outputs back after the last repetition (read_committed) and compares them. */
  verify?: boolean;
}

const CHUNK = 1_000;
const OUT_PREFIX = 'bench.passthrough.';
/** Transactions open at once never wait longer than this for the broker (ms). */
const TRANSACTION_TIMEOUT = 60_000;

/** Counts what a group copied: `done` settles once it has copied `total` records, or fails. */
function copyProgress(total: number) {
  let copied = 0;
  let finish: () => void = () => {};
  let fail: (err: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const progress = {
    doneAt: 0,
    done,
    fail: (err: unknown) => fail(err),
    count: (n: number) => {
      copied += n;
      if (copied >= total && !progress.doneAt) {
        progress.doneAt = performance.now();
        finish();
      }
    },
  };
  return progress;
}

interface GroupRun {
  /** When the group's partitions were assigned (ms, performance.now()). */
  readonly assignedAt: number;
  /** When the group had copied every record of its inputs. */
  readonly doneAt: number;
  /** Transactions committed. */
  readonly transactions: number;
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

function outputOf(group: number, topic: string): string {
  return `${OUT_PREFIX}${group}.${topic}`;
}

// ------------------------------------------------------------------ transactions, either client

/** Records of one input partition, ready to produce, with what to commit for them. */
interface Part {
  topic: string;
  partition: number;
  /** The output topic. */
  out: string;
  /** Output records in the client's own shape. */
  records: unknown[];
  /** The input offset to commit (last + 1). */
  next: bigint;
  /** @platformatic/kafka: the last input message (its offset and group metadata are committed). */
  last?: PlatformaticMessage;
}

interface OpenTransaction {
  send(parts: readonly Part[]): Promise<void>;
  /** Adds the consumed offsets (the last part of every input partition) and commits. */
  commit(lastParts: readonly Part[]): Promise<void>;
  abort(): Promise<void>;
}

interface TransactionalProducer {
  begin(): Promise<OpenTransaction>;
  close(): Promise<void>;
}

/**
 * One transactional producer and the records waiting for it: one transaction at a time,
 * taking what is queued (at most `maxRecords`), open for `intervalMs` while more arrives.
 */
class TransactionSlot {
  readonly #queue: Array<{ part: Part; committed: () => void }> = [];
  #queued = 0;
  #wake: (() => void) | null = null;
  readonly #space: Array<() => void> = [];
  #closed = false;
  readonly #loop: Promise<void>;
  readonly producer: TransactionalProducer;
  readonly options: TxnOptions;
  readonly onCommitted: (records: number) => void;

  constructor(
    producer: TransactionalProducer,
    options: TxnOptions,
    onCommitted: (records: number) => void,
    onError: (err: unknown) => void,
  ) {
    this.producer = producer;
    this.options = options;
    this.onCommitted = onCommitted;
    this.#loop = this.#run().catch(onError);
  }

  /**
   * `room`: fewer than maxPending records wait; `accepted`: once there is room again
   * (pipelining); `committed`: once the part's transaction has committed.
   */
  add(part: Part): { room: boolean; accepted: Promise<void>; committed: Promise<void> } {
    let committed: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      committed = resolve;
    });
    this.#queue.push({ part, committed });
    this.#queued += part.records.length;
    this.#wake?.();
    const room = this.#queued <= this.options.maxPending;
    const accepted = room ? Promise.resolve() : new Promise<void>((r) => this.#space.push(r));
    return { room, accepted, committed: done };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#loop;
    await this.producer.close();
  }

  #arrival(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => this.#wake?.(), ms) : undefined;
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    const { maxRecords, intervalMs, maxPending } = this.options;
    while (!this.#closed) {
      if (this.#queue.length === 0) {
        await this.#arrival(Number.POSITIVE_INFINITY);
        continue;
      }
      const txn = await this.producer.begin();
      const started = performance.now();
      const lastParts = new Map<string, Part>();
      const committed: Array<() => void> = [];
      let records = 0;
      try {
        for (;;) {
          const parts: Part[] = [];
          while (
            this.#queue.length > 0 &&
            (records === 0 || records + this.#queue[0]!.part.records.length <= maxRecords)
          ) {
            const { part, committed: done } = this.#queue.shift()!;
            parts.push(part);
            committed.push(done);
            lastParts.set(`${part.topic}/${part.partition}`, part);
            records += part.records.length;
            this.#queued -= part.records.length;
          }
          while (this.#space.length > 0 && this.#queued <= maxPending) this.#space.shift()!();
          for (const group of sendGroups(parts)) await txn.send(group);
          const left = intervalMs - (performance.now() - started);
          if (this.#queue.length > 0 || records >= maxRecords || left <= 0 || this.#closed) break;
          await this.#arrival(left);
        }
        await txn.commit([...lastParts.values()]);
      } catch (err) {
        await txn.abort().catch(() => {});
        throw err;
      }
      for (const done of committed) done();
      this.onCommitted(records);
    }
  }
}

/** The slots of a group: one per input partition, or one for all. */
class TransactionSlots {
  readonly #slots = new Map<string, TransactionSlot>();
  transactions = 0;
  readonly options: TxnOptions;
  readonly create: (name: string) => Promise<TransactionalProducer>;
  readonly onCommitted: (records: number) => void;
  readonly onError: (err: unknown) => void;

  constructor(
    options: TxnOptions,
    create: (name: string) => Promise<TransactionalProducer>,
    onCommitted: (records: number) => void,
    onError: (err: unknown) => void,
  ) {
    this.options = options;
    this.create = create;
    this.onCommitted = onCommitted;
    this.onError = onError;
  }

  /** Creates (and initialises) every producer before the consumer joins. */
  async open(inputs: readonly string[]): Promise<void> {
    const keys =
      this.options.producers === 'instance'
        ? ['all']
        : inputs.flatMap((t) => [...Array(PARTITIONS).keys()].map((p) => `${t}/${p}`));
    for (const key of keys) {
      const producer = await this.create(key.replace('/', '-'));
      this.#slots.set(
        key,
        new TransactionSlot(
          producer,
          this.options,
          (n) => {
            this.transactions++;
            this.onCommitted(n);
          },
          this.onError,
        ),
      );
    }
  }

  add(part: Part) {
    const key = this.options.producers === 'instance' ? 'all' : `${part.topic}/${part.partition}`;
    return this.#slots.get(key)!.add(part);
  }

  async close(): Promise<void> {
    for (const slot of this.#slots.values()) await slot.close();
  }
}

/** Parts in sends of at most CHUNK records per output partition (a record batch stays under the broker's limit). */
function sendGroups(parts: readonly Part[]): Part[][] {
  const groups: Part[][] = [];
  let group: Part[] = [];
  const sizes = new Map<string, number>();
  for (const part of parts) {
    const key = `${part.out}/${part.partition}`;
    if ((sizes.get(key) ?? 0) + part.records.length > CHUNK && group.length > 0) {
      groups.push(group);
      group = [];
      sizes.clear();
    }
    group.push(part);
    sizes.set(key, (sizes.get(key) ?? 0) + part.records.length);
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function txnOptions(args: PassthroughArgs): TxnOptions {
  return { ...DEFAULT_TXN, ...args.txn };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

// ------------------------------------------------------------------ kafkajs

function kafkajsTransactional(kafka: Kafka, groupId: string) {
  return async (name: string): Promise<TransactionalProducer> => {
    const producer = pipelineLikeProducer(kafka, `${groupId}-${name}`);
    await producer.connect();
    return {
      begin: async () => {
        const txn = await producer.transaction();
        return {
          send: async (parts) => {
            const byTopic = new Map<string, unknown[]>();
            for (const part of parts) {
              const out = byTopic.get(part.out);
              if (out) out.push(...part.records);
              else byTopic.set(part.out, [...part.records]);
            }
            await txn.sendBatch({
              topicMessages: [...byTopic].map(([topic, messages]) => ({
                topic,
                messages: messages as never[],
              })),
              acks: -1,
            });
          },
          commit: async (lastParts) => {
            const topics = new Map<string, Array<{ partition: number; offset: string }>>();
            for (const p of lastParts) {
              const list = topics.get(p.topic) ?? [];
              list.push({ partition: p.partition, offset: p.next.toString() });
              topics.set(p.topic, list);
            }
            await txn.sendOffsets({
              consumerGroupId: groupId,
              topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
            });
            await txn.commit();
          },
          abort: () => txn.abort(),
        };
      },
      close: () => producer.disconnect(),
    };
  };
}

async function kafkajsGroup(
  kafka: Kafka,
  index: number,
  inputs: string[],
  guarantee: Guarantee,
  txn: TxnOptions,
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
  let assignedAt = 0;
  const progress = copyProgress(total);
  const { done, count, fail } = progress;
  let shared: Producer | null = null;
  let slots: TransactionSlots | null = null;
  if (guarantee === 'exactly_once') {
    slots = new TransactionSlots(txn, kafkajsTransactional(kafka, groupId), count, fail);
    await slots.open(inputs);
  } else {
    shared = pipelineLikeProducer(kafka);
    await shared.connect();
  }
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
      const size = Math.min(txn.maxRecords, CHUNK);
      const waits: Array<Promise<void>> = [];
      for (const chunk of chunks(batch.messages, size)) {
        const last = chunk.at(-1)!.offset;
        const next = BigInt(last) + 1n;
        const messages = chunk.map((m) => ({
          key: m.key,
          value: m.value,
          headers: m.headers,
          partition: batch.partition,
        }));
        if (slots) {
          const { accepted, committed } = slots.add({
            topic: batch.topic,
            partition: batch.partition,
            out,
            records: messages,
            next,
          });
          waits.push(txn.pipeline ? accepted : committed);
        } else {
          await shared!.sendBatch({ topicMessages: [{ topic: out, messages }], acks: -1 });
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next.toString() }]);
          count(chunk.length);
        }
      }
      await Promise.all(waits);
      if (batch.messages.length > 0) resolveOffset(batch.messages.at(-1)!.offset);
      await heartbeat();
    },
  });
  return {
    get assignedAt() {
      return assignedAt;
    },
    get doneAt() {
      return progress.doneAt;
    },
    get transactions() {
      return slots?.transactions ?? 0;
    },
    stop: async () => {
      await done;
      await consumer.disconnect();
      await shared?.disconnect();
      await slots?.close();
    },
    done,
  };
}

// ------------------------------------------------------------------ @platformatic/kafka

function platformaticTransactional(consumer: PConsumer, groupId: string) {
  return async (name: string): Promise<TransactionalProducer> => {
    const producer = new PProducer({
      clientId: 'churn-bench',
      bootstrapBrokers: endpoints().brokers.split(','),
      idempotent: true,
      acks: -1,
      transactionalId: `${groupId}-${name}`,
      // Also the transaction timeout InitProducerId asks for.
      timeout: TRANSACTION_TIMEOUT,
      // A transaction begun right after the previous one's commit meets CONCURRENT_TRANSACTIONS
      // until the coordinator has written its markers: retried after the default flat 1 s,
      // every such transaction takes a second. From 20 ms, doubling, as the Java producer does.
      retries: 10,
      retryDelay: (_client, _operation, attempt) => Math.min(20 * 2 ** (attempt - 1), 1_000),
    });
    // FindCoordinator and InitProducerId now, not in the first timed transaction.
    await (await producer.beginTransaction()).cancel();
    return {
      begin: async () => {
        const txn = await producer.beginTransaction();
        return {
          // One send at a time: concurrent sends in a transaction share one AddPartitionsToTxn.
          send: async (parts) => {
            await txn.send({ messages: parts.flatMap((p) => p.records) as never[] });
          },
          // One offset at a time: concurrent addOffset calls share one TxnOffsetCommit.
          commit: async (lastParts) => {
            await txn.addConsumer(consumer);
            for (const p of lastParts) await txn.addOffset(p.last!);
            await txn.commit();
          },
          abort: () => txn.abort(),
        };
      },
      close: () => producer.close(),
    };
  };
}

async function platformaticGroup(
  index: number,
  inputs: string[],
  guarantee: Guarantee,
  txn: TxnOptions,
  total: number,
): Promise<GroupRun> {
  const brokers = endpoints().brokers.split(',');
  const groupId = `bench-passthrough-${index}-${crypto.randomUUID()}`;
  const consumer = new PConsumer({
    clientId: 'churn-bench',
    bootstrapBrokers: brokers,
    groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  let assignedAt = 0;
  const progress = copyProgress(total);
  const { done, count, fail } = progress;
  let producer: PProducer | null = null;
  let slots: TransactionSlots | null = null;
  if (guarantee === 'exactly_once') {
    slots = new TransactionSlots(txn, platformaticTransactional(consumer, groupId), count, fail);
    await slots.open(inputs);
  } else {
    producer = new PProducer({ clientId: 'churn-bench', bootstrapBrokers: brokers, idempotent: true, acks: -1 });
  }
  const stream = await consumer.consume({
    topics: inputs,
    mode: 'earliest',
    autocommit: false,
    maxWaitTime: 100,
    isolationLevel: 1,
  });
  assignedAt = performance.now();
  const toRecord = (m: PlatformaticMessage) => ({
    topic: outputOf(index, m.topic),
    partition: m.partition,
    key: m.key,
    value: m.value,
    headers: m.headers,
  });

  // at-least-once: chunks of CHUNK records in arrival order, offsets committed after each.
  let pending: PlatformaticMessage[] = [];
  // exactly-once: what arrived, by input partition.
  const byPartition = new Map<string, PlatformaticMessage[]>();
  let flushing = false;
  const flushAtLeastOnce = async () => {
    while (pending.length > 0) {
      const chunk = pending.slice(0, CHUNK);
      pending = pending.slice(chunk.length);
      if (pending.length < CHUNK * 5 && stream.isPaused()) stream.resume();
      await producer!.send({ messages: chunk.map(toRecord) });
      const offsets = new Map<string, { topic: string; partition: number; offset: bigint; leaderEpoch: number }>();
      for (const m of chunk)
        offsets.set(`${m.topic}/${m.partition}`, {
          topic: m.topic,
          partition: m.partition,
          offset: m.offset + 1n,
          leaderEpoch: m.leaderEpoch,
        });
      await consumer.commit({ offsets: [...offsets.values()] });
      count(chunk.length);
    }
  };
  const flushTransactional = async () => {
    while (byPartition.size > 0) {
      const waits: Array<Promise<void>> = [];
      for (const messages of byPartition.values()) {
        for (const chunk of chunks(messages, Math.min(txn.maxRecords, CHUNK))) {
          const last = chunk.at(-1)!;
          const { room, accepted, committed } = slots!.add({
            topic: last.topic,
            partition: last.partition,
            out: outputOf(index, last.topic),
            records: chunk.map(toRecord),
            next: last.offset + 1n,
            last,
          });
          if (!txn.pipeline) waits.push(committed);
          else if (!room) waits.push(accepted);
        }
      }
      byPartition.clear();
      // Without pipelining the next fetch waits for the transactions; with it, only for room.
      if (waits.length > 0) {
        stream.pause();
        await Promise.all(waits);
        stream.resume();
      }
    }
  };
  const flush = async () => {
    if (flushing) return;
    flushing = true;
    try {
      await (slots ? flushTransactional() : flushAtLeastOnce());
    } catch (err) {
      fail(err);
    } finally {
      flushing = false;
    }
  };
  stream.on('data', (m: PlatformaticMessage) => {
    if (slots) {
      const key = `${m.topic}/${m.partition}`;
      const list = byPartition.get(key);
      if (list) list.push(m);
      else byPartition.set(key, [m]);
    } else {
      pending.push(m);
      if (pending.length >= CHUNK * 5) stream.pause();
    }
    if (!flushing) setImmediate(() => void flush());
  });
  stream.on('error', fail);
  return {
    get assignedAt() {
      return assignedAt;
    },
    get doneAt() {
      return progress.doneAt;
    },
    get transactions() {
      return slots?.transactions ?? 0;
    },
    stop: async () => {
      await done;
      await stream.close();
      await slots?.close();
      await consumer.close();
      await producer?.close();
    },
    done,
  };
}

// ------------------------------------------------------------------ verification

interface PartitionDigest {
  records: number;
  /** Digest of the record sequence (key and value of each record, in offset order). */
  sequence: ReturnType<typeof createHash>;
  /** Records by digest of key and value. */
  counts: Map<string, number>;
}

/** Reads every record of `topics` with a read_committed consumer, digested per partition. */
async function digestTopics(kafka: Kafka, topics: readonly string[]): Promise<Map<string, PartitionDigest>> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await endOffsets(admin, topics);
  await admin.disconnect();
  const digests = new Map<string, PartitionDigest>();
  for (const key of ends.keys()) digests.set(key, { records: 0, sequence: createHash('sha1'), counts: new Map() });
  const left = new Set([...ends].filter(([, high]) => high > 0n).map(([key]) => key));
  if (left.size === 0) return digests;
  const consumer = kafka.consumer({
    groupId: `bench-passthrough-verify-${crypto.randomUUID()}`,
    readUncommitted: false,
  });
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const key = `${batch.topic}/${batch.partition}`;
      const d = digests.get(key)!;
      for (const m of batch.messages) {
        const h = createHash('sha1')
          .update(String(m.key?.length ?? -1))
          .update(m.key ?? '')
          .update(String(m.value?.length ?? -1))
          .update(m.value ?? '')
          .digest('hex');
        d.sequence.update(h);
        d.counts.set(h, (d.counts.get(h) ?? 0) + 1);
        d.records++;
      }
      if (BigInt(batch.lastOffset()) + 1n >= ends.get(key)!) left.delete(key);
      if (left.size === 0) finish();
    },
  });
  const timeout = setTimeout(finish, 120_000);
  await done;
  clearTimeout(timeout);
  await consumer.disconnect();
  if (left.size > 0) throw new Error(`verification: could not read ${[...left].join(', ')} to the end`);
  return digests;
}

export interface Verification {
  inputRecords: number;
  outputRecords: number;
  /** Output records beyond the input's count of the same key and value. */
  duplicated: number;
  /** Input records missing from the output. */
  lost: number;
  /** Output partitions whose records differ from their input partition's (content or order). */
  partitionsDiffering: number;
}

async function verify(kafka: Kafka, groups: readonly string[][]): Promise<Verification> {
  const inputs = await digestTopics(kafka, [...new Set(groups.flat())]);
  const outputs = await digestTopics(
    kafka,
    groups.flatMap((topics, i) => topics.map((t) => outputOf(i, t))),
  );
  const v: Verification = { inputRecords: 0, outputRecords: 0, duplicated: 0, lost: 0, partitionsDiffering: 0 };
  for (const [i, topics] of groups.entries()) {
    for (const topic of topics) {
      for (let p = 0; p < PARTITIONS; p++) {
        const a = inputs.get(`${topic}/${p}`)!;
        const b = outputs.get(`${outputOf(i, topic)}/${p}`)!;
        v.inputRecords += a.records;
        v.outputRecords += b.records;
        for (const [h, n] of b.counts) v.duplicated += Math.max(0, n - (a.counts.get(h) ?? 0));
        for (const [h, n] of a.counts) v.lost += Math.max(0, n - (b.counts.get(h) ?? 0));
        if (a.sequence.copy().digest('hex') !== b.sequence.copy().digest('hex')) v.partitionsDiffering++;
      }
    }
  }
  return v;
}

// ------------------------------------------------------------------ the figure

export interface PassthroughRun {
  events: number;
  seconds: number;
  /** CPU seconds of this process (user + system) over the repetition. */
  cpuSeconds: number;
  eventsPerSecond: number;
  transactions: number;
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
  const txn = txnOptions(args);
  const cpu = process.cpuUsage();
  const runs: GroupRun[] = [];
  for (const [i, inputs] of args.groups.entries()) {
    runs.push(
      args.client === 'kafkajs'
        ? await kafkajsGroup(kafka, i, inputs, args.guarantee, txn, totals[i]!)
        : await platformaticGroup(i, inputs, args.guarantee, txn, totals[i]!),
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
  return {
    events,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    eventsPerSecond: events / seconds,
    transactions: runs.reduce((n, r) => n + r.transactions, 0),
  };
}

function describe(args: PassthroughArgs): string {
  const groups = args.groups.length > 1 ? `, ${args.groups.length} groups` : '';
  if (args.guarantee !== 'exactly_once') return `${args.client} ${args.guarantee}${groups}`;
  const t = txnOptions(args);
  const how = [
    t.producers === 'instance' ? 'one producer' : 'a producer per partition',
    `<= ${t.maxRecords} records`,
    t.intervalMs > 0 ? `open ${t.intervalMs} ms` : '',
    t.pipeline ? 'pipelined' : '',
  ].filter(Boolean);
  return `${args.client} ${args.guarantee} (${how.join(', ')})${groups}`;
}

export async function run(args: PassthroughArgs) {
  const kafka = benchKafka('churn-bench-passthrough');
  const admin = kafka.admin();
  await admin.connect();
  const counts = await countRecords(admin, [...new Set(args.groups.flat())]);
  await admin.disconnect();
  const totals = args.groups.map((inputs) => inputs.reduce((n, t) => n + (counts.get(t) ?? 0), 0));
  const inputEvents = [...counts.values()].reduce((a, b) => a + b, 0);
  const label = describe(args);
  const runs: PassthroughRun[] = [];
  for (let i = 0; i < args.warmups + args.reps; i++) {
    const r = await once(kafka, args, totals);
    const warm = i < args.warmups;
    progress(
      `passthrough ${label} ${warm ? 'warm-up' : `rep ${i - args.warmups + 1}/${args.reps}`}: ${r.events} records copied in ${r.seconds.toFixed(2)} s, ${Math.round(inputEvents / r.seconds)} input events/s, ${Math.round(inputEvents / r.cpuSeconds)} per CPU second${r.transactions ? `, ${r.transactions} transactions` : ''}`,
    );
    if (!warm) runs.push(r);
  }
  let verification: Verification | undefined;
  if (args.verify) {
    verification = await verify(kafka, args.groups);
    progress(
      `passthrough ${label} verified (read_committed): ${verification.inputRecords} input records, ${verification.outputRecords} output records, ${verification.duplicated} duplicated, ${verification.lost} lost, ${verification.partitionsDiffering} partitions differing`,
    );
  }
  const admin2 = kafka.admin();
  await admin2.connect();
  await deleteTopics(admin2, (t) => t.startsWith(OUT_PREFIX));
  await admin2.disconnect();
  if (
    verification &&
    (verification.outputRecords !== verification.inputRecords ||
      verification.duplicated > 0 ||
      verification.lost > 0 ||
      verification.partitionsDiffering > 0)
  )
    throw new Error(`passthrough ${label}: the outputs differ from the inputs: ${JSON.stringify(verification)}`);
  return {
    client: args.client,
    guarantee: args.guarantee,
    groups: args.groups.length,
    ...(args.guarantee === 'exactly_once' ? { txn: txnOptions(args) } : {}),
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
    ...(args.guarantee === 'exactly_once' ? { transactions: summarize(runs.map((r) => r.transactions)) } : {}),
    ...(verification ? { verification } : {}),
  };
}
