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
 *
 * The runner is this facade (start, stop, health and what tests and operators ask) over
 * its parts: the task manager (task-manager.ts) holds one partition task each
 * (partition-task.ts: the drain loop, the open transaction and its commit), with its
 * state store (state-store.ts) and decoding buffer (record-buffer.ts); the event-time
 * merge (event-time-merge.ts), the clock step and due index (clock-step.ts,
 * due-index.ts), the committers (committer.ts) and the dead letters (dead-letter.ts).
 */
import { topicCatalogue } from '@churn/contracts';
import type { Admin, Batch, Consumer, Producer } from 'kafkajs';
import type { HealthSource } from '../http.ts';
import { JSON_STATE_CODEC, type StateCodec } from '../topology.ts';
import { coPartitionedAssigner } from './assigner.ts';
import { ClockStep } from './clock-step.ts';
import { AtLeastOnceCommitter, type Committer, ExactlyOnceCommitter, PRODUCER_BASE } from './committer.ts';
import { DeadLetters } from './dead-letter.ts';
import { dueTimeOf } from './due-index.ts';
import { mergeRanks } from './event-time-merge.ts';
import type { KafkaRunnerOptions } from './options.ts';
import type { FailureScope } from './partition-task.ts';
import { RecordDecoder } from './record-buffer.ts';
import { CHANGELOG_SUFFIX } from './state-store.ts';
import { TaskManager } from './task-manager.ts';
import { prepareTopologyTopics } from './topics.ts';

export { sendRounds } from './committer.ts';
export { DueIndex } from './due-index.ts';
export { isRetriable, isTransient } from './errors.ts';
export type { KafkaRunnerOptions, ProcessingGuarantee } from './options.ts';

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
  readonly #tasks: TaskManager<S>;
  readonly #clockStep: ClockStep<S>;
  readonly #decoder: RecordDecoder;
  #committer: Committer;
  #consumer: Consumer | null = null;
  #admin: Admin | null = null;
  #producer: Producer | null = null;
  #wallClockTimer: NodeJS.Timeout | null = null;
  #alive = true;
  #stopping = false;

  constructor(options: KafkaRunnerOptions<S>) {
    const o = {
      guarantee: 'exactly_once' as const,
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
    this.#o = o;
    const { topology, logger: log, metrics } = o;
    const version = topology.stateVersion ?? 1;
    this.name = topology.name;
    this.groupId = version === 1 ? this.name : `${this.name}-v${version}`;
    this.changelog = `${this.groupId}${CHANGELOG_SUFFIX}`;
    const now = (): number => o.clock();
    const stopping = () => this.#stopping;
    this.#clockStep = new ClockStep(topology, o.serde);
    this.#decoder = new RecordDecoder({ ...o, service: this.name, log, stopping });
    this.#committer = new ExactlyOnceCommitter(this.groupId, this.name, metrics);
    this.#tasks = new TaskManager<S>({
      ...o,
      service: this.name,
      log,
      groupId: this.groupId,
      changelog: this.changelog,
      exactlyOnce: o.guarantee === 'exactly_once',
      codec: topology.stateCodec ?? (JSON_STATE_CODEC as StateCodec<S>),
      // Ties of event time: the shared topic, then the topic catalogue's order (the order
      // `churnctl generate` writes ties in), then internal topics.
      ranks: mergeRanks(
        topology.inputs,
        topicCatalogue.map((t) => t.topic as string),
        topology.shared?.topic,
      ),
      clockStep: this.#clockStep,
      deadLetters: new DeadLetters(this.name, now, log),
      committer: () => this.#committer,
      admin: () => this.#admin as Admin,
      now,
      elapsed: () => performance.now(),
      dueOf: (key, state) => dueTimeOf(topology.dueAt, key, state),
      stopping,
      resume: (topic, partition) => this.#consumer?.resume([{ topic, partitions: [partition] }]),
      fail: (err, partition, scope) => this.#fail(err, partition, scope),
    });
  }

  /**
   * The one way to fail: the runner is no longer alive. A failure of the process (a
   * transaction whose outcome is unknown, a consumer that will not restart, a fenced
   * partition still assigned here) also calls onFatal; a partition whose processing
   * failed for good stops until the next rebalance.
   */
  #fail(err: unknown, partition: number | null, scope: FailureScope): void {
    this.#alive = false;
    if (scope === 'partition') {
      this.#o.logger.error({ err, partition }, 'processing failed; the partition stops until the next rebalance');
      return;
    }
    this.#o.logger.error(
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
    if (!this.#alive || this.#stopping || !this.#tasks.assignedOnce) return false;
    for (const task of this.#tasks.tasks.values()) if (!task.active) return false;
    return true;
  }

  async start(): Promise<void> {
    const { topology, kafka, serde, guarantee, logger: log } = this.#o;
    this.#admin = kafka.admin();
    await this.#admin.connect();
    for (const t of topology.internalTopics ?? []) serde.addInternalTopic(t.topic, t.record);
    this.#clockStep.inputPartitions = await prepareTopologyTopics(this.#admin, topology, this.changelog, {
      partitions: this.#o.partitions,
      replicationFactor: this.#o.replicationFactor,
      log,
    });
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
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.#tasks.onAssignment(event.payload.memberAssignment));
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      log.error({ err: error, restart }, 'consumer crashed');
      if (!restart) this.#fail(error, null, 'process');
    });
    // A batch of only transaction markers never reaches eachBatch; its offsets still tell
    // the merge that the topic has nothing more to wait for. One fetched while the
    // partition's state is still being restored counts once that is done: dropped, the
    // partition would never count as caught up (the client does not fetch it again), and
    // its wall clock would never move.
    consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
      const { topic, partition, lastOffset, highWatermark } = event.payload;
      const task = this.#tasks.tasks.get(partition);
      if (!task || task.revoked) return;
      const advance = () => {
        if (!task.active || task.revoked) return;
        task.records.advanceFetched(topic, BigInt(lastOffset) + 1n, BigInt(highWatermark));
        task.drain();
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
    if (this.#clockStep.enabled && this.#o.tickIntervalMs > 0) {
      this.#wallClockTimer = setInterval(() => void this.advanceClock(this.#o.clock(), true), this.#o.tickIntervalMs);
      this.#wallClockTimer.unref();
    }
    log.info({ inputs: topology.inputs, guarantee, instanceId: this.#o.instanceId }, 'consuming');
  }

  /** Buffers a fetched batch for the merge; never blocks the consumer. */
  async #onBatch(payload: { batch: Batch; resolveOffset: (offset: string) => void }): Promise<void> {
    const { batch } = payload;
    const task = this.#tasks.tasks.get(batch.partition);
    if (!task) return; // revoked while the batch was in flight
    await task.activation;
    if (!task.active || task.revoked) return;
    await this.#decoder.bufferBatch(task.records, batch);
    // Offsets are committed with the transactions; resolving only moves the fetch position on.
    payload.resolveOffset(batch.lastOffset());
    if (task.records.pauseIfFull(batch.topic))
      this.#consumer?.pause([{ topic: batch.topic, partitions: [task.partition] }]);
    task.drain();
  }

  /** Stops fetching, lets the batch in flight finish (its transaction commits or aborts), leaves the group. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#wallClockTimer) clearInterval(this.#wallClockTimer);
    // Let a transaction in flight commit or abort before leaving, and commit the open one.
    await Promise.all([...this.#tasks.tasks.values()].map((t) => t.commitBeforeLeaving()));
    try {
      await this.#consumer?.disconnect();
    } catch (err) {
      this.#o.logger.warn({ err }, 'consumer did not leave the group cleanly');
    }
    await this.#tasks.releaseAll();
    await this.#producer?.disconnect().catch(() => {});
    await this.#admin?.disconnect().catch(() => {});
    this.#o.logger.info('stopped');
  }

  /** Input partitions this instance holds now. */
  assignedPartitions(): number[] {
    return [...this.#tasks.tasks.keys()].sort((a, b) => a - b);
  }

  /** Whether a key's state is held by this instance (and its partition is active). */
  hasKey(key: string): boolean {
    for (const task of this.#tasks.tasks.values()) if (task.active && task.store.states.has(key)) return true;
    return false;
  }

  /** The committed state of a key, if this instance holds it. */
  stateOf(key: string): S | undefined {
    for (const task of this.#tasks.tasks.values())
      if (task.active && task.store.states.has(key)) return task.store.states.get(key);
    return undefined;
  }

  /** Whether every active partition has processed all its inputs up to the latest high watermarks seen. */
  isCaughtUp(): boolean {
    for (const task of this.#tasks.tasks.values()) if (!task.active || !task.caughtUp()) return false;
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
    return [...this.#tasks.tasks.values()].flatMap((task) =>
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
    return new Map([...this.#tasks.tasks].filter(([, t]) => t.active).map(([p, t]) => [p, t.store.clock]));
  }

  /** Keys held in this instance's state stores. */
  stateSize(): number {
    return this.#tasks.stateSize();
  }

  /**
   * Runs the topology's clock step once at `at` over every key of every active
   * partition, without moving the partitions' clocks. For tests and operators.
   */
  async tickAll(at: number): Promise<number> {
    return this.#tasks.runClockStep(async (txn) => {
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
    return this.#tasks.runClockStep(this.#tasks.clockTo(at, onlyCaughtUp));
  }
}
