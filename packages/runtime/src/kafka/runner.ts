/**
 * Runs one topology on Kafka: consume → decode → validate → process → encode → produce.
 *
 * - Records of a partition's input topics are merged in event-time order (ties: the
 *   order of the topology's inputs, then offset), waiting for a topic whose fetched
 *   records are behind its high watermark (at most `mergeIdleMs`). A backlog is thus
 *   processed in the same order as `churnctl replay` processes the file, and the clock
 *   follows event time: the topology's clock step runs at every midnight UTC the
 *   partition's records cross, before the first record past it.
 * - State is kept per input partition in memory and backed by a compacted changelog
 *   topic (`<service>-state-changelog`, partition p holds the state of input partition
 *   p). It is restored when a partition is assigned, before that partition's records
 *   are processed; readiness reflects it.
 * - Exactly-once (the default): each batch's outputs, dead letters, state changes and
 *   consumed offsets are written in one Kafka transaction. A transaction with outputs
 *   or dead letters commits at once; one with only state changes stays open for more
 *   records, up to `commitIntervalMs`. Each input partition has its
 *   own transactional id (`<service>-<partition>`), so an instance that takes over a
 *   partition fences the one that had it, and reads the committed offset only after
 *   the fence, when no transaction of the old owner can still be open.
 * - At-least-once: an idempotent producer, offsets committed after the outputs are
 *   acknowledged. Faster; after a crash, outputs of the last batch may be written again.
 * - Bad records go to `<topic>.dlq` with their original bytes and the reason in headers;
 *   transient errors (broker, registry) are retried with backoff and never dead-lettered.
 */
import { ChurnError, topicCatalogue } from '@churn/contracts';
import type { ContractSerde } from '@churn/serde';
import type { Admin, Batch, Consumer, IHeaders, Kafka, Message, Producer } from 'kafkajs';
import type { HealthSource } from '../http.ts';
import type { Logger } from '../logger.ts';
import type { PipelineMetrics } from '../metrics.ts';
import { JSON_STATE_CODEC, type StateCodec, type Topology } from '../topology.ts';
import { coPartitionedAssigner } from './assigner.ts';
import { ClockStep } from './clock-step.ts';
import {
  AtLeastOnceCommitter,
  type Committer,
  ExactlyOnceCommitter,
  offsetsAfter,
  PRODUCER_BASE,
  type TopicOffsets,
} from './committer.ts';
import { DeadLetters } from './dead-letter.ts';
import { dueTimeOf, midnightOf } from './due-index.ts';
import {
  backoff,
  isFenced,
  isRetriable,
  isTooLarge,
  isTransient,
  ProcessingFailed,
  sleep,
  TransactionOutcomeUnknown,
} from './errors.ts';
import { mergeRanks, nextRecords, sharedTimeOf } from './event-time-merge.ts';
import { type BufferedRecord, RecordBuffer, RecordDecoder } from './record-buffer.ts';
import { CHANGELOG_SUFFIX, restoreStores, StateStore } from './state-store.ts';
import { coPartitioningProblem, ensureTopics, partitionCounts, topicsOf } from './topics.ts';
import { outputMessage, Transaction } from './transaction.ts';

export { sendRounds } from './committer.ts';
export { DueIndex } from './due-index.ts';
export { isRetriable, isTransient } from './errors.ts';

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
  /**
   * Attempts before a record whose processing keeps failing with a retriable error goes to
   * its dead-letter topic; any other processing error sends it there at the first. @default 3
   */
  maxAttempts?: number;
  /** Wall-clock interval of the topology's clock step; 0 turns it off. @default 60000 */
  tickIntervalMs?: number;
  /**
   * The runner's one source of what time it is: where the wall-clock interval moves
   * caught-up partitions' clocks to, dead-letter times and decision latency. (Waits
   * measured by timers, the merge's mergeIdleMs and the commit interval, run on the
   * process's monotonic time as the timers do.) @default Date.now
   */
  clock?: () => number;
  /**
   * How long the merge waits for a topic whose next records are not fetched yet before
   * it goes on without them. @default 2000
   */
  mergeIdleMs?: number;
  /**
   * How long a transaction that holds only state changes and offsets (nothing a reader
   * waits for) stays open for more records before it commits; one with outputs or dead
   * letters commits at once. Fewer, larger transactions when inputs trickle in; 0 commits
   * every chunk. @default 100
   */
  commitIntervalMs?: number;
  /**
   * How long the group waits for a silent instance (a crashed process, say) before its
   * partitions go to the others; heartbeats go at a tenth of it. @default 30000
   */
  sessionTimeoutMs?: number;
  /**
   * Called when the runner cannot go on in this process (a transaction whose outcome is
   * unknown, a consumer that will not restart): a process exits so that a new one
   * resumes from the committed state. Without it the runner only reports not alive.
   */
  onFatal?: (error: unknown) => void;
}

interface PartitionTask<S> {
  readonly partition: number;
  readonly store: StateStore<S>;
  /** Its fetched records and where each input topic stands. */
  readonly records: RecordBuffer;
  draining: boolean;
  rerun: boolean;
  waitingSince: number | null;
  waitTimer: NodeJS.Timeout | null;
  /** The transaction being filled (processed, not committed), if any. */
  open: Transaction<S> | null;
  /** Commits the open transaction when it is old enough. */
  commitTimer: NodeJS.Timeout | null;
  producer: Producer | null;
  activation: Promise<void>;
  active: boolean;
  revoked: boolean;
  lock: Promise<unknown>;
  /** Records per chunk while a chunk was too large for the broker; null for the usual bound. */
  chunkLimit: number | null;
}

/**
 * Records per transaction at most. Over a backlog, a larger transaction writes each
 * customer's state to the changelog once for all the records it holds of that customer:
 * 5 000 rather than 1 000 records per transaction took a third off the pipeline's CPU
 * per event in the benchmark. Live, a transaction holds what has arrived, a few records.
 */
const MAX_CHUNK = 5_000;
/** Input bytes per transaction at most (one record always goes). */
const MAX_CHUNK_BYTES = 1024 * 1024;
export class KafkaRunner<S> implements HealthSource {
  /** The service's name, in logs, metrics and dead-letter headers. */
  readonly name: string;
  /** Consumer group, and prefix of the changelog and transactional ids: the name and the state version. */
  readonly groupId: string;
  readonly changelog: string;
  readonly #o: Required<Omit<KafkaRunnerOptions<S>, 'clock' | 'onFatal'>> & {
    clock: () => number;
    onFatal?: (error: unknown) => void;
  };
  readonly #tasks = new Map<number, PartitionTask<S>>();
  readonly #codec: StateCodec<S>;
  /**
   * Merge order of records with the same event time: the topic catalogue's order (the
   * order `churnctl generate` writes ties in), then internal topics.
   */
  readonly #ranks: ReadonlyMap<string, number>;
  readonly #clockStep: ClockStep<S>;
  readonly #deadLetters: DeadLetters;
  readonly #decoder: RecordDecoder;
  #committer: Committer;
  #consumer: Consumer | null = null;
  #admin: Admin | null = null;
  #producer: Producer | null = null;
  #wallClockTimer: NodeJS.Timeout | null = null;
  #assignedOnce = false;
  /** The partitions of the last assignment, and how many assignments there were. */
  #assigned = new Set<number>();
  #generation = 0;
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
      mergeIdleMs: 2_000,
      commitIntervalMs: 100,
      sessionTimeoutMs: 30_000,
      ...options,
    };
    this.#codec = options.topology.stateCodec ?? (JSON_STATE_CODEC as StateCodec<S>);
    const version = options.topology.stateVersion ?? 1;
    this.name = options.topology.name;
    this.groupId = version === 1 ? this.name : `${this.name}-v${version}`;
    this.changelog = `${this.groupId}${CHANGELOG_SUFFIX}`;
    this.#ranks = mergeRanks(
      options.topology.inputs,
      topicCatalogue.map((t) => t.topic as string),
      options.topology.shared?.topic,
    );
    this.#clockStep = new ClockStep(options.topology, options.serde);
    this.#deadLetters = new DeadLetters(this.name, this.#now, options.logger);
    this.#decoder = new RecordDecoder({
      serde: options.serde,
      topology: options.topology,
      maxRecordBytes: this.#o.maxRecordBytes,
      metrics: options.metrics,
      service: this.name,
      log: options.logger,
      stopping: () => this.#stopping,
    });
    this.#committer = new ExactlyOnceCommitter(this.groupId, this.name, options.metrics);
  }

  /** What time it is, from the runner's time source. */
  readonly #now = (): number => this.#o.clock();
  /** Monotonic milliseconds, for waits that timers end (mergeIdleMs, commitIntervalMs). */
  readonly #elapsed = (): number => performance.now();

  get #log(): Logger {
    return this.#o.logger;
  }

  /**
   * After a fence, the rebalance that moved the partition away is on its way. Should
   * none come while the group still gives the partition to this instance (it saw the
   * move and the move back as one assignment), nobody would process it: then the
   * process must restart and rejoin.
   */
  #expectRebalance(partition: number): void {
    const generation = this.#generation;
    const timer = setTimeout(() => {
      if (this.#stopping || this.#generation !== generation || !this.#assigned.has(partition)) return;
      if (this.#tasks.has(partition)) return;
      this.#fatal(new Error(`partition ${partition} was fenced but is still assigned here`), partition);
    }, this.#o.sessionTimeoutMs * 2);
    timer.unref();
  }

  #fatal(err: unknown, partition: number | null): void {
    this.#alive = false;
    this.#log.error(
      { err, partition },
      'cannot go on in this process; it must restart and resume from the committed state',
    );
    this.#o.onFatal?.(err);
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
    // Co-partitioning: the inputs that exist say how many partitions the topology has
    // (an internal input, its own count; none yet, TOPIC_PARTITIONS), and what is
    // missing is created with that count, the changelog included.
    const before = await partitionCounts(this.#admin, [...topology.inputs, this.changelog]);
    this.#checkCoPartitioned(before);
    const existingInput = topology.inputs.find((t) => before.has(t));
    const fixedInternalInput = internal.find(
      (t) => topology.inputs.includes(t.topic) && typeof t.partitions === 'number',
    )?.partitions as number | undefined;
    const partitions =
      existingInput !== undefined ? (before.get(existingInput) as number) : (fixedInternalInput ?? this.#o.partitions);
    const created = await ensureTopics(
      this.#admin,
      topicsOf(
        topology.inputs.filter((t) => !internalNames.has(t)),
        topology.outputs.filter((t) => !internalNames.has(t)),
        this.changelog,
      ),
      partitions,
      this.#o.replicationFactor,
    );
    // A co-partitioned internal topic has the customer-scoped topics' count.
    const customerScoped =
      (await partitionCounts(this.#admin, ['customer.profiles.v1'])).get('customer.profiles.v1') ?? this.#o.partitions;
    for (const t of internal) {
      created.push(
        ...(await ensureTopics(
          this.#admin,
          topicsOf(topology.inputs.includes(t.topic) ? [t.topic] : [], [t.topic]),
          t.partitions === 'co-partitioned' ? customerScoped : t.partitions,
          this.#o.replicationFactor,
        )),
      );
    }
    if (created.length > 0) this.#log.info({ topics: created, partitions }, 'created missing topics');
    // Again with what was created (another instance may have created some at the same time).
    const counts = await partitionCounts(this.#admin, [...topology.inputs, this.changelog]);
    this.#checkCoPartitioned(counts);
    this.#clockStep.inputPartitions = counts.get(topology.inputs[0] as string) ?? partitions;
    await serde.registerAll([...new Set([...topology.inputs, ...topology.outputs])]);

    if (guarantee === 'at_least_once') {
      this.#producer = kafka.producer(PRODUCER_BASE);
      await this.#producer.connect();
      this.#committer = new AtLeastOnceCommitter(this.#producer, this.changelog, (offsets) =>
        (this.#consumer as Consumer).commitOffsets(offsets),
      );
    }
    const consumer = kafka.consumer({
      groupId: this.groupId,
      partitionAssigners: [coPartitionedAssigner],
      readUncommitted: false,
      sessionTimeout: this.#o.sessionTimeoutMs,
      rebalanceTimeout: 60_000,
      heartbeatInterval: Math.max(100, Math.floor(this.#o.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.#onAssignment(event.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      this.#log.error({ err: error, restart }, 'consumer crashed');
      if (!restart) this.#fatal(error, null);
    });
    // A batch of only transaction markers never reaches eachBatch; its offsets still tell
    // the merge that the topic has nothing more to wait for. One fetched while the
    // partition's state is still being restored counts once that is done: dropped, the
    // partition would never count as caught up (the client does not fetch it again), and
    // its wall clock would never move.
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, lastOffset, highWatermark } = event.payload;
      const task = this.#tasks.get(partition);
      if (!task || task.revoked) return;
      const advance = () => {
        if (!task.active || task.revoked) return;
        task.records.advanceFetched(topic, BigInt(lastOffset) + 1n, BigInt(highWatermark));
        this.#drain(task);
      };
      if (task.active) advance();
      else void task.activation.then(advance, () => {});
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [...topology.inputs], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, topology.inputs.length * this.#o.partitions),
      eachBatch: (payload) => this.#onBatch(payload),
    });
    // A topology with only onClock (watermarks for a stage that merges partitions) needs
    // the wall clock as much as one with tick: without it a partition whose records stop
    // coming never passes another midnight, and the stage downstream waits for it forever.
    if ((topology.tick || topology.onClock) && this.#o.tickIntervalMs > 0) {
      this.#wallClockTimer = setInterval(() => void this.advanceClock(this.#now(), true), this.#o.tickIntervalMs);
      this.#wallClockTimer.unref();
    }
    this.#log.info({ inputs: topology.inputs, guarantee, instanceId: this.#o.instanceId }, 'consuming');
  }

  #checkCoPartitioned(counts: ReadonlyMap<string, number>): void {
    const problem = coPartitioningProblem(counts, this.#o.topology.inputs, this.changelog);
    if (problem !== null) throw new ChurnError('CHURN_TOPICS_NOT_COPARTITIONED', `${this.name}: ${problem}`);
  }

  /** Stops fetching, lets the batch in flight finish (its transaction commits or aborts), leaves the group. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#wallClockTimer) clearInterval(this.#wallClockTimer);
    // Let a transaction in flight commit or abort before leaving, and commit the open one.
    await Promise.all(
      [...this.#tasks.values()].map((t) =>
        this.#withLock(t, async () => {
          if (t.open && t.active && !t.revoked) await this.#commitOpen(t, t.open);
        }).catch((err: unknown) => this.#log.warn({ err, partition: t.partition }, 'could not commit before leaving')),
      ),
    );
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
    for (const task of this.#tasks.values()) if (task.active && task.store.states.has(key)) return true;
    return false;
  }

  /** The committed state of a key, if this instance holds it. */
  stateOf(key: string): S | undefined {
    for (const task of this.#tasks.values())
      if (task.active && task.store.states.has(key)) return task.store.states.get(key);
    return undefined;
  }

  /** Whether every active partition has processed all its inputs up to the latest high watermarks seen. */
  isCaughtUp(): boolean {
    for (const task of this.#tasks.values()) {
      if (!task.active) return false;
      if (!task.records.caughtUp(this.#o.topology.inputs)) return false;
    }
    return true;
  }

  /** Where each active partition stands per input topic: next to process, next to fetch, buffered, high watermark. */
  positions(): Array<{
    partition: number;
    topic: string;
    next: string;
    fetched: string;
    buffered: number;
    high: string;
  }> {
    return [...this.#tasks.values()].flatMap((task) =>
      this.#o.topology.inputs.map((topic) => ({
        partition: task.partition,
        topic,
        next: String(task.records.nextOffset.get(topic) ?? '-'),
        fetched: String(task.records.fetchedNext.get(topic) ?? '-'),
        buffered: task.records.buffered(topic),
        high: String(task.records.highWater.get(topic) ?? '-'),
      })),
    );
  }

  /** The clock (last midnight of a clock step, stream time) of each active partition. */
  clocks(): Map<number, number | null> {
    return new Map([...this.#tasks].filter(([, t]) => t.active).map(([p, t]) => [p, t.store.clock]));
  }

  /** Keys held in this instance's state stores. */
  stateSize(): number {
    let n = 0;
    for (const task of this.#tasks.values()) n += task.store.states.size;
    return n;
  }

  // ---------------------------------------------------------------- assignment

  #onAssignment(assignment: Record<string, number[]>): void {
    const assigned = new Set<number>();
    for (const topic of this.#o.topology.inputs) for (const p of assignment[topic] ?? []) assigned.add(p);
    this.#assignedOnce = true;
    this.#assigned = assigned;
    this.#generation++;
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
        store: new StateStore(partition, this.#codec, this.changelog, this.#o.topology.tick ? this.#dueOf : null),
        records: new RecordBuffer(),
        draining: false,
        rerun: false,
        waitingSince: null,
        waitTimer: null,
        open: null,
        commitTimer: null,
        producer: null,
        activation: Promise.resolve(),
        active: false,
        revoked: false,
        lock: Promise.resolve(),
        chunkLimit: null,
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
    if (task.waitTimer) clearTimeout(task.waitTimer);
    if (task.commitTimer) clearTimeout(task.commitTimer);
    task.open = null;
    task.records.clear();
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
              transactionalId: `${this.groupId}-${task.partition}`,
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
        for (const task of tasks) task.store.indexAll();
        for (const task of tasks) task.active = !task.revoked;
        this.#refreshStateGauge();
        for (const task of tasks) if (task.active) void this.#withLock(task, () => this.#announceClock(task));
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
    const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: [...this.#o.topology.inputs] });
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) {
        const task = tasks.find((t) => t.partition === partition);
        if (task && Number(offset) >= 0) task.records.nextOffset.set(topic, BigInt(offset));
      }
    }
    // Where each input stands now, so that the merge knows which topics have records to wait for.
    for (const topic of this.#o.topology.inputs) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        const task = tasks.find((t) => t.partition === partition);
        if (!task) continue;
        task.records.startAt(topic, task.records.nextOffset.get(topic) ?? BigInt(low), BigInt(high));
      }
    }
  }

  async #restore(tasks: PartitionTask<S>[]): Promise<void> {
    const started = this.#now();
    const admin = this.#admin as Admin;
    const restored = await restoreStores(
      {
        kafka: this.#o.kafka,
        admin,
        changelog: this.changelog,
        groupId: `${this.groupId}.restore.${this.#o.instanceId}.${crypto.randomUUID()}`,
      },
      tasks.map((t) => t.store),
    );
    const seconds = (this.#now() - started) / 1000;
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

  /** Buffers a fetched batch for the merge; never blocks the consumer. */
  async #onBatch(payload: { batch: Batch; resolveOffset: (offset: string) => void }): Promise<void> {
    const { batch } = payload;
    const task = this.#tasks.get(batch.partition);
    if (!task) return; // revoked while the batch was in flight
    await task.activation;
    if (!task.active || task.revoked) return;
    await this.#decoder.bufferBatch(task.records, batch);
    // Offsets are committed with the transactions; resolving only moves the fetch position on.
    payload.resolveOffset(batch.lastOffset());
    if (task.records.pauseIfFull(batch.topic))
      this.#consumer?.pause([{ topic: batch.topic, partitions: [task.partition] }]);
    this.#drain(task);
  }

  /** Runs the merge for a partition until it has nothing it may process; one run at a time. */
  #drain(task: PartitionTask<S>): void {
    if (task.draining) {
      task.rerun = true;
      return;
    }
    task.draining = true;
    void (async () => {
      let attempt = 0;
      try {
        do {
          task.rerun = false;
          for (;;) {
            try {
              if (!(await this.#withLock(task, () => this.#mergeChunk(task)))) break;
              attempt = 0;
            } catch (err) {
              if (err instanceof TransactionOutcomeUnknown) {
                this.#fatal(err, task.partition);
                return;
              }
              if (isFenced(err)) {
                this.#log.warn({ partition: task.partition }, 'another instance took over this partition; dropping it');
                task.revoked = true;
                this.#tasks.delete(task.partition);
                await this.#release(task);
                this.#expectRebalance(task.partition);
                return;
              }
              if (!isTransient(err) || this.#stopping || task.revoked) throw err;
              this.#o.metrics.retries.inc({
                service: this.name,
                reason: err instanceof ChurnError ? err.code : 'kafka',
              });
              this.#log.warn({ err, partition: task.partition, attempt }, 'transient error; retrying the chunk');
              await sleep(backoff(attempt++));
            }
          }
        } while (task.rerun && !task.revoked && !this.#stopping);
      } catch (err) {
        this.#log.error(
          { err, partition: task.partition },
          'processing failed; the partition stops until the next rebalance',
        );
        this.#alive = false;
      } finally {
        task.draining = false;
      }
    })();
  }

  /**
   * Picks the next records of the partition in event-time order and processes them into
   * the partition's open transaction, which commits when it holds outputs or dead letters
   * (someone downstream waits for them), when it is full, or once it is
   * `commitIntervalMs` old. Returns whether it processed or committed anything.
   */
  async #mergeChunk(task: PartitionTask<S>): Promise<boolean> {
    if (!task.active || task.revoked || this.#stopping) return false;
    let txn = task.open;
    try {
      const { picked, cursor, bytes, gatedAt } = this.#next(task, txn);
      if (picked.length === 0 && gatedAt !== null) {
        // The next record waits for the shared record of its day, which waits for every
        // partition to pass that midnight: this one passes it now.
        const midnight = midnightOf(gatedAt);
        const clock = txn?.clock ?? task.store.clock;
        if (clock === null || clock < midnight) {
          txn ??= this.#open(task, cursor);
          task.open = txn;
          await this.#clockStep.passMidnights(txn, gatedAt, task.partition);
          await this.#commitOpen(task, txn);
          return true;
        }
      }
      if (picked.length === 0) {
        if (txn === null) return false;
        const age = this.#elapsed() - txn.openedAt;
        if (age < this.#o.commitIntervalMs) {
          this.#flushLater(task, this.#o.commitIntervalMs - age);
          return false;
        }
        await this.#commitOpen(task, txn);
        return true;
      }
      // A transaction opens only once it has records.
      if (txn === null) txn = this.#open(task, cursor);
      else txn.cursor = cursor;
      txn.bytes += bytes;
      task.open = txn;
      await this.#processInto(task, txn, picked);
      const limit = task.chunkLimit ?? MAX_CHUNK;
      const urgent = txn.out.size > 0;
      if (urgent || txn.records >= limit || txn.bytes >= MAX_CHUNK_BYTES || this.#o.commitIntervalMs === 0) {
        await this.#commitOpen(task, txn);
      } else {
        this.#flushLater(task, this.#o.commitIntervalMs - (this.#elapsed() - txn.openedAt));
      }
      return true;
    } catch (err) {
      // Nothing of the open transaction is kept: its records are still buffered and are
      // processed again, from the committed state.
      task.open = null;
      if (isTooLarge(err) && txn !== null && txn.records > 1) {
        // Outputs larger than the byte bound foresaw: the same records again, in halves.
        task.chunkLimit = Math.max(1, Math.floor(txn.records / 2));
        this.#log.warn(
          { partition: task.partition, records: task.chunkLimit },
          'transaction too large; smaller chunks',
        );
      }
      throw err;
    }
  }

  /** A new transaction of the partition, from its committed state. */
  #open(task: PartitionTask<S>, cursor?: Map<string, number>): Transaction<S> {
    return new Transaction<S>(task.store, this.#dueOf, this.#elapsed(), cursor);
  }

  /** Runs the merge again in `ms`, to commit an open transaction that waits for more records. */
  #flushLater(task: PartitionTask<S>, ms: number): void {
    if (task.commitTimer) return;
    task.commitTimer = setTimeout(
      () => {
        task.commitTimer = null;
        this.#drain(task);
      },
      Math.max(0, ms),
    );
    task.commitTimer.unref();
  }

  /** The merge's next records for the partition, after those the open transaction holds; wakes the merge when it waits. */
  #next(task: PartitionTask<S>, open: Transaction<S> | null) {
    const now = this.#elapsed();
    const result = nextRecords<BufferedRecord>({
      inputs: this.#o.topology.inputs,
      ranks: this.#ranks,
      buffers: task.records.buffers,
      cursor: open?.cursor ?? new Map<string, number>(),
      fullyFetched: (topic) => task.records.fullyFetched(topic),
      decodeRetrying: task.records.decodeRetrying > 0,
      held: open?.records ?? 0,
      heldBytes: open?.bytes ?? 0,
      maxRecords: task.chunkLimit ?? MAX_CHUNK,
      maxBytes: MAX_CHUNK_BYTES,
      ...(this.#o.topology.shared ? { shared: this.#o.topology.shared } : {}),
      // When the partition's shared record is as of: the gate of the records that need it.
      sharedAt: sharedTimeOf(open !== null ? open.shared : task.store.shared),
      waitingSince: task.waitingSince,
      now,
      mergeIdleMs: this.#o.mergeIdleMs,
    });
    task.waitingSince = result.waitingSince;
    if (result.wakeInMs !== null && !task.waitTimer) {
      task.waitTimer = setTimeout(() => {
        task.waitTimer = null;
        this.#drain(task);
      }, result.wakeInMs);
      task.waitTimer.unref();
    }
    return result;
  }

  /** Processes picked records (and the clock steps they pass) into the open transaction. */
  async #processInto(task: PartitionTask<S>, txn: Transaction<S>, picked: readonly BufferedRecord[]): Promise<void> {
    const { topology, serde } = this.#o;
    txn.records += picked.length;
    for (const item of picked) {
      txn.last.set(item.topic, item.offset);
      const source = {
        topic: item.topic,
        partition: task.partition,
        offset: String(item.offset),
        key: item.message.key,
        value: item.message.value,
        headers: item.message.headers as IHeaders,
      };
      if (item.input === null) {
        this.#deadLetters.send(txn, source, item.error, 1);
        continue;
      }
      const input = item.input;
      if (topology.shared?.topic === item.topic) {
        // Kept for the records after it, not processed; it moves no clock (it may be
        // taken ahead of its time, for a late record).
        txn.shared = input.value;
        txn.consumed.set(item.topic, (txn.consumed.get(item.topic) ?? 0) + 1);
        continue;
      }
      if (this.#clockStep.enabled) await this.#clockStep.passMidnights(txn, item.time, task.partition);
      let attempts = 0;
      try {
        const t1 = performance.now();
        const previous = txn.stateOf(input.key);
        let result: ReturnType<Topology<S>['process']> | null = null;
        while (result === null) {
          attempts++;
          try {
            result = topology.process(input, previous, item.time, txn.shared);
          } catch (err) {
            // A processor is a pure function of the record and the state: the same call
            // fails the same way (an unknown customer, a programmer error). Only an error
            // that says trying again can help is tried again, after a pause.
            if (!isRetriable(err) || attempts >= this.#o.maxAttempts) throw new ProcessingFailed(err);
            this.#o.metrics.retries.inc({ service: this.name, reason: 'processing' });
            await sleep(backoff(attempts - 1));
          }
        }
        const t2 = performance.now();
        txn.processSeconds += (t2 - t1) / 1000;
        const encoded: Array<[string, Message]> = [];
        for (const record of result.emit) {
          encoded.push([record.topic, outputMessage(record, await serde.encode(record.topic, record.value))]);
        }
        txn.encodeSeconds += (performance.now() - t2) / 1000;
        for (const [t, m] of encoded) txn.push(t, m);
        for (const record of result.emit) {
          txn.outputs.push(record);
          if (record.topic === 'churn.decisions.v1') txn.decisionTimes.push(item.time);
        }
        if (result.state !== previous) txn.setState(input.key, result.state);
        txn.consumed.set(item.topic, (txn.consumed.get(item.topic) ?? 0) + 1);
      } catch (err) {
        // A processing failure goes to the dead-letter topic however it failed; an error
        // while encoding the outputs that can pass (the registry away) retries the chunk.
        if (err instanceof ProcessingFailed) this.#deadLetters.send(txn, source, err.cause, attempts);
        else if (isTransient(err)) throw err;
        else this.#deadLetters.send(txn, source, err, Math.max(attempts, 1));
      }
    }
  }

  /** Commits the open transaction, then moves state, positions and buffers on. */
  async #commitOpen(task: PartitionTask<S>, txn: Transaction<S>): Promise<void> {
    const { metrics } = this.#o;
    const service = this.name;
    if (task.commitTimer) {
      clearTimeout(task.commitTimer);
      task.commitTimer = null;
    }
    for (const [topic, n] of txn.consumed) metrics.eventsConsumed.inc({ service, topic }, n);
    task.store.stageChangelog(txn);
    const commitStarted = performance.now();
    await this.#commit(task, txn, offsetsAfter(task.partition, txn.last));
    task.open = null;
    const committedAt = this.#now();
    metrics.processingDuration.observe({ service, stage: 'commit' }, (performance.now() - commitStarted) / 1000);
    metrics.processingDuration.observe({ service, stage: 'process' }, txn.processSeconds);
    metrics.processingDuration.observe({ service, stage: 'encode' }, txn.encodeSeconds);

    // Only now, with the transaction committed, do the in-memory state and positions move on.
    this.#applyCommitted(task, txn);
    task.chunkLimit = null;
    for (const topic of task.records.committed(txn.cursor, txn.last))
      this.#consumer?.resume([{ topic, partitions: [task.partition] }]);
    for (const occurredAt of txn.decisionTimes)
      metrics.decisionLatency.observe(Math.max(0, committedAt - occurredAt) / 1000);
    for (const topic of this.#o.topology.inputs) {
      const high = task.records.highWater.get(topic);
      const next = task.records.nextOffset.get(topic);
      if (high !== undefined && next !== undefined) {
        metrics.consumerLag.set(
          { service, topic, partition: String(task.partition) },
          Math.max(0, Number(high - next)),
        );
      }
    }
    // With its buffers moved on, this partition may have fallen idle behind another.
    this.#followFurthest();
  }

  #commit(task: PartitionTask<S>, txn: Transaction<S>, offsets: TopicOffsets): Promise<void> {
    return this.#committer.commit(task, txn.out, offsets);
  }

  #applyCommitted(task: PartitionTask<S>, txn: Transaction<S>): void {
    task.store.apply(txn);
    for (const [topic, messages] of txn.out) {
      if (topic !== this.changelog) this.#o.metrics.eventsProduced.inc({ service: this.name, topic }, messages.length);
    }
    for (const record of txn.outputs) this.#o.metrics.countOutput(record.topic, record.value);
    for (const dead of txn.deadLetters)
      this.#o.metrics.deadLetters.inc({ service: this.name, topic: dead.topic, reason: dead.code });
    this.#refreshStateGauge();
  }

  // ---------------------------------------------------------------- clock

  /** When a key's clock step is next due; -Infinity (always) for a topology without dueAt. */
  readonly #dueOf = (key: string, state: S | undefined): number => dueTimeOf(this.#o.topology.dueAt, key, state);

  /**
   * Runs the topology's clock step once at `at` over every key of every active
   * partition, without moving the partitions' clocks. For tests and operators.
   */
  async tickAll(at: number): Promise<number> {
    return this.#runClockStep(async (txn) => {
      await this.#clockStep.tickInto(txn, at, true);
    });
  }

  /**
   * Moves every active partition's clock on to `at`: the clock step runs at each
   * midnight UTC up to it, as if records had arrived. The wall-clock interval calls it
   * for partitions that have caught up with their inputs; a replay's `--until` is the
   * same move.
   */
  async advanceClock(at: number, onlyCaughtUp = false): Promise<number> {
    return this.#runClockStep(this.#clockTo(at, onlyCaughtUp));
  }

  /** Whether a partition has processed every record of its inputs up to the high watermarks seen. */
  #caughtUp(task: PartitionTask<S>): boolean {
    return task.records.caughtUp(this.#o.topology.inputs);
  }

  /**
   * The partitions of this instance with nothing to process follow the one whose clock
   * is furthest: their clocks pass the same midnights, as a replay's one clock would, and
   * their watermarks let stages that wait for every partition (the structural count, the
   * learning snapshot) go on without waiting for the wall clock. Runs after every commit:
   * a partition may fall idle after another's clock moved.
   */
  #followFurthest(): void {
    if (!this.#clockStep.enabled || this.#stopping) return;
    let at: number | null = null;
    for (const t of this.#tasks.values())
      if (t.active && t.store.clock !== null && (at === null || t.store.clock > at)) at = t.store.clock;
    if (at === null) return;
    const target = at;
    const idle = [...this.#tasks.values()].filter(
      (t) =>
        t.active &&
        !t.revoked &&
        t.open === null &&
        (t.store.clock === null || t.store.clock < target) &&
        this.#caughtUp(t),
    );
    if (idle.length > 0) void this.#runClockStep(this.#clockTo(target, true), idle);
  }

  /**
   * Says again where a partition's restored clock stands (the topology's onClock at it),
   * for the stages that wait for every partition: they may not have heard it, when the
   * clock moved while this topology sent nothing (a policy that did not learn yet) or
   * the last transaction before a restart was lost. They take a watermark at most once,
   * so hearing it twice changes nothing.
   */
  async #announceClock(task: PartitionTask<S>): Promise<void> {
    if (!this.#o.topology.onClock || task.store.clock === null || !task.active || task.revoked || this.#stopping)
      return;
    try {
      const txn = this.#open(task);
      await this.#clockStep.clockOutputsInto(txn, task.partition, task.store.clock);
      if (txn.out.size === 0) return;
      await this.#commit(task, txn, []);
      this.#applyCommitted(task, txn);
    } catch (err) {
      this.#log.warn({ err, partition: task.partition }, 'could not announce the clock; the next midnight will');
    }
  }

  /** The clock step that moves a partition's clock on to `at`, midnight by midnight. */
  #clockTo(at: number, onlyCaughtUp: boolean) {
    return async (txn: Transaction<S>, task: PartitionTask<S>): Promise<void> => {
      if (onlyCaughtUp && !this.#caughtUp(task)) return;
      await this.#clockStep.moveTo(txn, at, task.partition);
    };
  }

  async #runClockStep(
    step: (txn: Transaction<S>, task: PartitionTask<S>) => Promise<void>,
    tasks: readonly PartitionTask<S>[] = [...this.#tasks.values()],
  ): Promise<number> {
    if (!this.#clockStep.enabled || this.#stopping) return 0;
    let emitted = 0;
    for (const task of tasks) {
      if (!task.active || task.revoked) continue;
      try {
        emitted += await this.#withLock(task, async () => {
          // The clock step goes on from the committed state: records processed but not
          // committed yet are committed first.
          if (task.open) await this.#commitOpen(task, task.open);
          const txn = this.#open(task);
          await step(txn, task);
          if (txn.isEmpty()) return 0;
          task.store.stageChangelog(txn);
          await this.#commit(task, txn, []);
          this.#applyCommitted(task, txn);
          return txn.outputs.length;
        });
      } catch (err) {
        if (isFenced(err)) continue;
        this.#log.warn({ err, partition: task.partition }, 'clock step failed; it runs again at the next interval');
      }
    }
    return emitted;
  }
}
