/**
 * Runs one topology on Kafka: consume → decode → validate → process → encode → produce.
 *
 * - State is kept per input partition in memory and backed by a compacted changelog
 *   topic (`<service>-state-changelog`, partition p holds the state of input partition
 *   p). It is restored when a partition is assigned, before that partition's records
 *   are processed; readiness reflects it.
 * - Exactly-once (the default): each batch's outputs, dead letters, state changes and
 *   consumed offsets are written in one Kafka transaction. Each input partition has its
 *   own transactional id (`<service>-<partition>`), so an instance that takes over a
 *   partition fences the one that had it, and reads the committed offset only after
 *   the fence, when no transaction of the old owner can still be open.
 * - At-least-once: an idempotent producer, offsets committed after the outputs are
 *   acknowledged. Faster; after a crash, outputs of the last batch may be written again.
 * - Bad records go to `<topic>.dlq` with their original bytes and the reason in headers;
 *   transient errors (broker, registry) are retried with backoff and never dead-lettered.
 */
import { ChurnError } from '@churn/contracts';
import type { ContractSerde } from '@churn/serde';
import {
  type Admin,
  type Batch,
  type Consumer,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Message,
  Partitioners,
  type Producer,
  type ProducerConfig,
  type TopicMessages,
} from 'kafkajs';
import type { HealthSource } from '../http.ts';
import type { Logger } from '../logger.ts';
import type { PipelineMetrics } from '../metrics.ts';
import { customerIdOf, eventTimeOf, type InputRecord, type OutputRecord, type Topology } from '../topology.ts';
import { coPartitionedAssigner } from './assigner.ts';
import { classify, deadLetterOf, isProgrammerError } from './dead-letter.ts';
import { ensureTopics, topicsOf } from './topics.ts';

export type ProcessingGuarantee = 'exactly_once' | 'at_least_once';

export interface KafkaRunnerOptions<S> {
  topology: Topology<S>;
  kafka: Kafka;
  serde: ContractSerde;
  logger: Logger;
  metrics: PipelineMetrics;
  /** @default 'exactly_once' */
  guarantee?: ProcessingGuarantee;
  /** Identifies this process among the service's instances. */
  instanceId: string;
  /** Partition count for topics created when missing. @default 3 */
  partitions?: number;
  /** @default 1 */
  replicationFactor?: number;
  /** @default 1 MiB */
  maxRecordBytes?: number;
  /** Attempts before a record whose processing fails goes to its dead-letter topic. @default 3 */
  maxAttempts?: number;
  /** Wall-clock interval of the topology's clock step; 0 turns it off. @default 60000 */
  tickIntervalMs?: number;
  /** Time source for ticks and latency metrics. @default Date.now */
  clock?: () => number;
}

interface PartitionTask<S> {
  readonly partition: number;
  readonly store: Map<string, S>;
  /** Next offset to process per input topic, from the committed offsets read after the fence. */
  readonly nextOffset: Map<string, bigint>;
  producer: Producer | null;
  activation: Promise<void>;
  active: boolean;
  revoked: boolean;
  lock: Promise<unknown>;
}

const CHANGELOG_SUFFIX = '-state-changelog';

/**
 * Producer settings shared by both guarantees: Java-compatible murmur2 partitioning (so
 * keys land where Kafka Streams or Java producers would put them) and unbounded retries,
 * which idempotence needs to keep its ordering guarantee.
 */
const PRODUCER_BASE: ProducerConfig = {
  createPartitioner: Partitioners.DefaultPartitioner,
  idempotent: true,
  maxInFlightRequests: 1,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
};
const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function backoff(attempt: number): number {
  const exp = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
  return exp / 2 + Math.random() * (exp / 2);
}

/** Whether an error is transient: worth retrying the whole batch. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ChurnError) return error.retriable;
  if (isProgrammerError(error)) return false;
  const e = error as { retriable?: boolean; name?: string; type?: string };
  if (e.name === 'KafkaJSNonRetriableError' && (e as { cause?: unknown }).cause)
    return isTransient((e as { cause?: unknown }).cause);
  return (
    e.retriable === true ||
    (typeof e.name === 'string' && e.name.startsWith('KafkaJS') && e.type !== 'INVALID_PRODUCER_EPOCH')
  );
}

function isFenced(error: unknown): boolean {
  const e = error as { type?: string; name?: string; message?: string; cause?: unknown };
  if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED' || e.name === 'KafkaJSProducerFencedError')
    return true;
  return e.cause !== undefined && isFenced(e.cause);
}

export class KafkaRunner<S> implements HealthSource {
  readonly name: string;
  readonly changelog: string;
  readonly #o: Required<Omit<KafkaRunnerOptions<S>, 'clock'>> & { clock: () => number };
  readonly #tasks = new Map<number, PartitionTask<S>>();
  #consumer: Consumer | null = null;
  #admin: Admin | null = null;
  #producer: Producer | null = null;
  #tickTimer: NodeJS.Timeout | null = null;
  #assignedOnce = false;
  #alive = true;
  #stopping = false;

  constructor(options: KafkaRunnerOptions<S>) {
    this.#o = {
      guarantee: 'exactly_once',
      partitions: 3,
      replicationFactor: 1,
      maxRecordBytes: 1024 * 1024,
      maxAttempts: 3,
      tickIntervalMs: 60_000,
      clock: Date.now,
      ...options,
    };
    this.name = options.topology.name;
    this.changelog = `${this.name}${CHANGELOG_SUFFIX}`;
  }

  get #log(): Logger {
    return this.#o.logger;
  }

  isAlive(): boolean {
    return this.#alive;
  }

  /** Ready once the group assigned partitions and every assigned partition has its state restored. */
  isReady(): boolean {
    if (!this.#alive || this.#stopping || !this.#assignedOnce) return false;
    for (const task of this.#tasks.values()) if (!task.active) return false;
    return true;
  }

  async start(): Promise<void> {
    const { topology, kafka, serde, guarantee } = this.#o;
    this.#admin = kafka.admin();
    await this.#admin.connect();
    const internal = topology.internalTopics ?? [];
    for (const t of internal) serde.addInternalTopic(t.topic, t.record);
    const internalNames = new Set(internal.map((t) => t.topic));
    const created = await ensureTopics(
      this.#admin,
      topicsOf(
        topology.inputs.filter((t) => !internalNames.has(t)),
        topology.outputs.filter((t) => !internalNames.has(t)),
        this.changelog,
      ),
      this.#o.partitions,
      this.#o.replicationFactor,
    );
    for (const t of internal) {
      created.push(
        ...(await ensureTopics(
          this.#admin,
          topicsOf(topology.inputs.includes(t.topic) ? [t.topic] : [], [t.topic]),
          t.partitions,
          this.#o.replicationFactor,
        )),
      );
    }
    if (created.length > 0) this.#log.info({ topics: created }, 'created missing topics');
    await serde.registerAll([...new Set([...topology.inputs, ...topology.outputs])]);

    if (guarantee === 'at_least_once') {
      this.#producer = kafka.producer(PRODUCER_BASE);
      await this.#producer.connect();
    }
    const consumer = kafka.consumer({
      groupId: this.name,
      partitionAssigners: [coPartitionedAssigner],
      readUncommitted: false,
      sessionTimeout: 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.#onAssignment(event.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      this.#log.error({ err: error, restart }, 'consumer crashed');
      if (!restart) this.#alive = false;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topology.inputs], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.min(4, this.#o.partitions),
      eachBatch: (payload) => this.#onBatch(payload),
    });
    if (topology.tick && this.#o.tickIntervalMs > 0) {
      this.#tickTimer = setInterval(() => void this.tickAll(this.#o.clock()), this.#o.tickIntervalMs);
      this.#tickTimer.unref();
    }
    this.#log.info({ inputs: topology.inputs, guarantee, instanceId: this.#o.instanceId }, 'consuming');
  }

  /** Stops fetching, lets the batch in flight finish (its transaction commits or aborts), leaves the group. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#tickTimer) clearInterval(this.#tickTimer);
    try {
      await this.#consumer?.disconnect();
    } catch (err) {
      this.#log.warn({ err }, 'consumer did not leave the group cleanly');
    }
    await Promise.all([...this.#tasks.values()].map((t) => this.#release(t)));
    await this.#producer?.disconnect().catch(() => {});
    await this.#admin?.disconnect().catch(() => {});
    this.#log.info('stopped');
  }

  /** Input partitions this instance holds now. */
  assignedPartitions(): number[] {
    return [...this.#tasks.keys()].sort((a, b) => a - b);
  }

  /** Whether a key's state is held by this instance (and its partition is active). */
  hasKey(key: string): boolean {
    for (const task of this.#tasks.values()) if (task.active && task.store.has(key)) return true;
    return false;
  }

  /** The committed state of a key, if this instance holds it. */
  stateOf(key: string): S | undefined {
    for (const task of this.#tasks.values()) if (task.active && task.store.has(key)) return task.store.get(key);
    return undefined;
  }

  /** Keys held in this instance's state stores. */
  stateSize(): number {
    let n = 0;
    for (const task of this.#tasks.values()) n += task.store.size;
    return n;
  }

  // ---------------------------------------------------------------- assignment

  #onAssignment(assignment: Record<string, number[]>): void {
    const assigned = new Set<number>();
    for (const topic of this.#o.topology.inputs) for (const p of assignment[topic] ?? []) assigned.add(p);
    this.#assignedOnce = true;
    for (const [partition, task] of this.#tasks) {
      if (!assigned.has(partition)) {
        task.revoked = true;
        this.#tasks.delete(partition);
        void this.#withLock(task, () => this.#release(task));
        this.#log.info({ partition }, 'partition revoked; its state is dropped (it lives on in the changelog)');
      }
    }
    const fresh: PartitionTask<S>[] = [];
    for (const partition of [...assigned].sort((a, b) => a - b)) {
      if (this.#tasks.has(partition)) continue;
      const task: PartitionTask<S> = {
        partition,
        store: new Map(),
        nextOffset: new Map(),
        producer: null,
        activation: Promise.resolve(),
        active: false,
        revoked: false,
        lock: Promise.resolve(),
      };
      this.#tasks.set(partition, task);
      fresh.push(task);
    }
    if (fresh.length === 0) return;
    const activation = this.#activate(fresh);
    for (const task of fresh) {
      task.activation = activation;
      task.lock = activation.catch(() => {});
    }
    activation.catch((err: unknown) => this.#log.error({ err }, 'could not activate assigned partitions'));
    this.#log.info({ partitions: fresh.map((t) => t.partition) }, 'partitions assigned');
  }

  async #release(task: PartitionTask<S>): Promise<void> {
    const producer = task.producer;
    task.producer = null;
    await producer?.disconnect().catch(() => {});
    this.#refreshStateGauge();
  }

  /**
   * Fences the previous owner of each partition (exactly-once), then reads the committed
   * offsets and restores state from the changelog. Retries transient failures.
   */
  async #activate(tasks: PartitionTask<S>[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.#o.guarantee === 'exactly_once') {
          for (const task of tasks) {
            if (task.producer) continue;
            const producer = this.#o.kafka.producer({
              ...PRODUCER_BASE,
              transactionalId: `${this.name}-${task.partition}`,
              transactionTimeout: 60_000,
            });
            await producer.connect();
            // The first transaction initialises the producer id, which fences any older
            // producer with the same transactional id and waits out its open transaction.
            const fence = await producer.transaction();
            await fence.abort();
            task.producer = producer;
          }
        }
        await this.#readCommittedOffsets(tasks);
        await this.#restore(tasks);
        for (const task of tasks) task.active = !task.revoked;
        this.#refreshStateGauge();
        return;
      } catch (err) {
        if (this.#stopping || tasks.every((t) => t.revoked)) return;
        if (!isTransient(err) || attempt >= 20) throw err;
        this.#o.metrics.retries.inc({ service: this.name, reason: 'activation' });
        this.#log.warn({ err, attempt }, 'activating partitions failed; retrying');
        await sleep(backoff(attempt));
      }
    }
  }

  async #readCommittedOffsets(tasks: PartitionTask<S>[]): Promise<void> {
    const admin = this.#admin as Admin;
    const committed = await admin.fetchOffsets({ groupId: this.name, topics: [...this.#o.topology.inputs] });
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) {
        const task = tasks.find((t) => t.partition === partition);
        if (task && Number(offset) >= 0) task.nextOffset.set(topic, BigInt(offset));
      }
    }
  }

  async #restore(tasks: PartitionTask<S>[]): Promise<void> {
    const started = this.#o.clock();
    const admin = this.#admin as Admin;
    const ends = await admin.fetchTopicOffsets(this.changelog);
    const wanted = new Map<number, PartitionTask<S>>(tasks.map((t) => [t.partition, t]));
    const pending = new Map<number, bigint>();
    for (const { partition, high, low } of ends) {
      if (wanted.has(partition) && BigInt(high) > BigInt(low)) pending.set(partition, BigInt(high) - 1n);
    }
    let restored = 0;
    if (pending.size > 0) {
      const groupId = `${this.name}.restore.${this.#o.instanceId}.${crypto.randomUUID()}`;
      const consumer = this.#o.kafka.consumer({
        groupId,
        readUncommitted: false,
        maxWaitTimeInMs: 50,
        maxBytes: 50 * 1024 * 1024,
      });
      const progress = (partition: number, lastOffset: string) => {
        const end = pending.get(partition);
        if (end !== undefined && BigInt(lastOffset) >= end) pending.delete(partition);
      };
      const done = new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (pending.size === 0) {
            clearInterval(timer);
            resolve();
          }
        }, 20);
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.partition, e.payload.lastOffset));
        consumer.on(consumer.events.CRASH, (e) => {
          clearInterval(timer);
          reject((e.payload as { error: Error }).error);
        });
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: this.changelog, fromBeginning: true });
        await consumer.run({
          eachBatch: async ({ batch }) => {
            const task = wanted.get(batch.partition);
            if (task) {
              for (const message of batch.messages) {
                const key = message.key?.toString('utf8');
                if (key === undefined) continue;
                if (message.value === null) task.store.delete(key);
                else task.store.set(key, JSON.parse(message.value.toString('utf8')) as S);
                restored++;
              }
            }
            progress(batch.partition, batch.lastOffset());
          },
        });
        await done;
      } finally {
        await consumer.disconnect().catch(() => {});
        await admin.deleteGroups([groupId]).catch(() => {});
      }
    }
    const seconds = (this.#o.clock() - started) / 1000;
    this.#o.metrics.stateRestoreDuration.observe({ service: this.name }, seconds);
    this.#log.info(
      {
        partitions: tasks.map((t) => t.partition),
        records: restored,
        keys: tasks.reduce((n, t) => n + t.store.size, 0),
        seconds,
      },
      'state restored from the changelog',
    );
  }

  #refreshStateGauge(): void {
    this.#o.metrics.stateCustomers.set({ service: this.name }, this.stateSize());
  }

  #withLock<T>(task: PartitionTask<S>, work: () => Promise<T>): Promise<T> {
    const run = task.lock.then(work, work);
    task.lock = run.catch(() => {});
    return run;
  }

  // ---------------------------------------------------------------- batches

  async #onBatch(payload: {
    batch: Batch;
    resolveOffset: (offset: string) => void;
    heartbeat: () => Promise<void>;
    isRunning: () => boolean;
    isStale: () => boolean;
  }): Promise<void> {
    const { batch } = payload;
    const task = this.#tasks.get(batch.partition);
    if (!task) return; // revoked while the batch was in flight
    await task.activation;
    await this.#withLock(task, async () => {
      for (let attempt = 0; ; attempt++) {
        if (task.revoked || this.#stopping || !payload.isRunning() || payload.isStale()) return;
        try {
          await this.#processBatch(task, payload);
          return;
        } catch (err) {
          if (isFenced(err)) {
            this.#log.warn({ partition: task.partition }, 'another instance took over this partition; dropping it');
            task.revoked = true;
            this.#tasks.delete(task.partition);
            await this.#release(task);
            return;
          }
          if (!isTransient(err)) throw err;
          this.#o.metrics.retries.inc({ service: this.name, reason: err instanceof ChurnError ? err.code : 'kafka' });
          this.#log.warn(
            { err, topic: batch.topic, partition: batch.partition, attempt },
            'transient error; retrying the batch',
          );
          await sleep(backoff(attempt));
          await payload.heartbeat().catch(() => {});
        }
      }
    });
  }

  async #decode(topic: string, message: KafkaMessage): Promise<InputRecord> {
    const size = message.value?.length ?? 0;
    if (size > this.#o.maxRecordBytes) {
      throw new ChurnError(
        'CHURN_RECORD_TOO_LARGE',
        `record value is ${size} bytes; the limit is ${this.#o.maxRecordBytes}`,
      );
    }
    const { value } = await this.#o.serde.decode(topic, message.value);
    const key = message.key?.toString('utf8');
    const customerId = customerIdOf(value);
    if (!key)
      throw new ChurnError('CHURN_KEY_MISMATCH', 'record has no key; customer-scoped topics are keyed by customerId');
    // Internal topics are re-keyed on purpose (by reason, say), so only contract topics
    // must carry the customerId as key.
    const rekeyed = this.#o.topology.internalTopics?.some((t) => t.topic === topic) === true;
    if (!rekeyed && customerId !== null && key !== customerId) {
      throw new ChurnError('CHURN_KEY_MISMATCH', `record key does not match the record's customerId`);
    }
    return { topic, key, value };
  }

  async #processBatch(
    task: PartitionTask<S>,
    payload: {
      batch: Batch;
      resolveOffset: (offset: string) => void;
      heartbeat: () => Promise<void>;
      isRunning: () => boolean;
      isStale: () => boolean;
    },
  ): Promise<void> {
    const { batch } = payload;
    const topic = batch.topic;
    const { topology, metrics, serde } = this.#o;
    const service = this.name;
    const pending = new Map<string, S | undefined>();
    const out = new Map<string, Message[]>();
    const counted: OutputRecord[] = [];
    const latencies: number[] = [];
    const push = (t: string, m: Message) => {
      const list = out.get(t);
      if (list) list.push(m);
      else out.set(t, [m]);
    };
    const expected = task.nextOffset.get(topic);
    let last: string | null = null;
    let processed = 0;
    let decodeSeconds = 0;
    let processSeconds = 0;
    let encodeSeconds = 0;

    for (const message of batch.messages) {
      if (expected !== undefined && BigInt(message.offset) < expected) {
        last = message.offset; // processed and committed by this partition's previous owner
        continue;
      }
      if (!payload.isRunning() || payload.isStale()) break;
      let attempts = 0;
      let t0 = performance.now();
      try {
        const input = await this.#decode(topic, message);
        const t1 = performance.now();
        decodeSeconds += (t1 - t0) / 1000;
        const previous = pending.has(input.key) ? pending.get(input.key) : task.store.get(input.key);
        let result: ReturnType<Topology<S>['process']> | null = null;

        while (result === null) {
          attempts++;
          try {
            result = topology.process(input, previous, eventTimeOf(input.value));
          } catch (err) {
            if (isProgrammerError(err) || attempts >= this.#o.maxAttempts) throw err;
          }
        }
        const t2 = performance.now();
        processSeconds += (t2 - t1) / 1000;
        const encoded: Array<[string, Message]> = [];
        for (const record of result.emit) {
          const value = await serde.encode(record.topic, record.value);
          encoded.push([record.topic, { key: record.key, value }]);
        }
        encodeSeconds += (performance.now() - t2) / 1000;
        for (const [t, m] of encoded) push(t, m);
        for (const record of result.emit) {
          counted.push(record);
          if (record.topic === 'churn.decisions.v1') latencies.push(eventTimeOf(input.value));
        }
        if (result.state !== previous) pending.set(input.key, result.state);
        metrics.eventsConsumed.inc({ service, topic });
      } catch (err) {
        if (isTransient(err)) throw err;
        attempts = Math.max(attempts, 1);
        const dead = deadLetterOf(
          {
            topic,
            partition: batch.partition,
            offset: message.offset,
            key: message.key,
            value: message.value,
            headers: message.headers as IHeaders,
          },
          err,
          service,
          attempts,
          new Date(this.#o.clock()),
        );
        push(dead.topic, dead.message);
        const { kind, code } = classify(err);
        metrics.deadLetters.inc({ service, topic, reason: code });
        this.#log.warn(
          {
            topic,
            partition: batch.partition,
            offset: message.offset,
            kind,
            code,
            attempts,
            error: (err as Error).message,
          },
          'record sent to the dead-letter topic',
        );
        t0 = performance.now();
      }
      last = message.offset;
      processed++;
      if (processed % 500 === 0) await payload.heartbeat();
    }
    if (last === null) return;

    // State changes go to the changelog partition of this input partition.
    for (const [key, state] of pending) {
      push(this.changelog, {
        key,
        value: state === undefined ? null : Buffer.from(JSON.stringify(state)),
        partition: task.partition,
      });
    }
    const next = (BigInt(last) + 1n).toString();
    const topicMessages: TopicMessages[] = [...out].map(([t, messages]) => ({ topic: t, messages }));
    const commitStarted = performance.now();
    if (this.#o.guarantee === 'exactly_once') {
      const producer = task.producer;
      if (!producer)
        throw new ChurnError('CHURN_REGISTRY_UNAVAILABLE', 'partition has no producer yet', { retriable: true });
      const txn = await producer.transaction();
      try {
        if (topicMessages.length > 0) await txn.sendBatch({ topicMessages, acks: -1 });
        await txn.sendOffsets({
          consumerGroupId: this.name,
          topics: [{ topic, partitions: [{ partition: batch.partition, offset: next }] }],
        });
        await txn.commit();
        metrics.transactions.inc({ service, result: 'committed' });
      } catch (err) {
        await txn.abort().catch(() => {});
        metrics.transactions.inc({ service, result: 'aborted' });
        throw err;
      }
    } else {
      // Outputs first, then state, then offsets: a crash in between repeats outputs
      // (with the same event ids) but never loses one.
      const producer = this.#producer as Producer;
      const outputs = topicMessages.filter((t) => t.topic !== this.changelog);
      const changelog = topicMessages.filter((t) => t.topic === this.changelog);
      if (outputs.length > 0) await producer.sendBatch({ topicMessages: outputs, acks: -1 });
      if (changelog.length > 0) await producer.sendBatch({ topicMessages: changelog, acks: -1 });
      await (this.#consumer as Consumer).commitOffsets([{ topic, partition: batch.partition, offset: next }]);
    }
    const committedAt = this.#o.clock();
    metrics.processingDuration.observe({ service, stage: 'commit' }, (performance.now() - commitStarted) / 1000);
    metrics.processingDuration.observe({ service, stage: 'decode' }, decodeSeconds);
    metrics.processingDuration.observe({ service, stage: 'process' }, processSeconds);
    metrics.processingDuration.observe({ service, stage: 'encode' }, encodeSeconds);

    // Only now, with the transaction committed, does the in-memory state move on.
    for (const [key, state] of pending) {
      if (state === undefined) task.store.delete(key);
      else task.store.set(key, state);
    }
    task.nextOffset.set(topic, BigInt(next));
    payload.resolveOffset(last);
    for (const [t, messages] of out) {
      if (t !== this.changelog) metrics.eventsProduced.inc({ service, topic: t }, messages.length);
    }
    for (const record of counted) metrics.countOutput(record.topic, record.value);
    for (const occurredAt of latencies) metrics.decisionLatency.observe(Math.max(0, committedAt - occurredAt) / 1000);
    metrics.consumerLag.set(
      { service, topic, partition: String(batch.partition) },
      Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))),
    );
    this.#refreshStateGauge();
  }

  // ---------------------------------------------------------------- clock

  /**
   * Runs the topology's clock step at `at` over every key of every active partition,
   * each partition in its own transaction (exactly-once). Public for tests and replays.
   */
  async tickAll(at: number): Promise<number> {
    const { topology } = this.#o;
    if (!topology.tick || this.#stopping) return 0;
    let emitted = 0;
    for (const task of [...this.#tasks.values()]) {
      if (!task.active || task.revoked) continue;
      try {
        emitted += await this.#withLock(task, () => this.#tickPartition(task, at));
      } catch (err) {
        if (isFenced(err)) continue;
        this.#log.warn({ err, partition: task.partition }, 'clock step failed; it runs again at the next interval');
      }
    }
    return emitted;
  }

  async #tickPartition(task: PartitionTask<S>, at: number): Promise<number> {
    const tick = this.#o.topology.tick as NonNullable<Topology<S>['tick']>;
    const pending = new Map<string, S | undefined>();
    const messages: Array<{ topic: string; message: Message }> = [];
    const counted: OutputRecord[] = [];
    for (const [key, state] of task.store) {
      const result = tick(key, state, at);
      for (const record of result.emit) {
        messages.push({
          topic: record.topic,
          message: { key: record.key, value: await this.#o.serde.encode(record.topic, record.value) },
        });
        counted.push(record);
      }
      if (result.state !== state) pending.set(key, result.state);
    }
    if (pending.size === 0 && messages.length === 0) return 0;
    for (const [key, state] of pending) {
      messages.push({
        topic: this.changelog,
        message: {
          key,
          value: state === undefined ? null : Buffer.from(JSON.stringify(state)),
          partition: task.partition,
        },
      });
    }
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of messages) byTopic.set(topic, [...(byTopic.get(topic) ?? []), message]);
    const topicMessages = [...byTopic].map(([topic, list]) => ({ topic, messages: list }));
    if (this.#o.guarantee === 'exactly_once') {
      const txn = await (task.producer as Producer).transaction();
      try {
        await txn.sendBatch({ topicMessages, acks: -1 });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => {});
        throw err;
      }
    } else {
      await (this.#producer as Producer).sendBatch({ topicMessages, acks: -1 });
    }
    for (const [key, state] of pending) {
      if (state === undefined) task.store.delete(key);
      else task.store.set(key, state);
    }
    for (const record of counted) {
      this.#o.metrics.eventsProduced.inc({ service: this.name, topic: record.topic });
      this.#o.metrics.countOutput(record.topic, record.value);
    }
    return counted.length;
  }
}
