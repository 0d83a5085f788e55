/**
 * The partitions this instance holds, one task each: assignment and revocation,
 * activation (fencing the previous owner, reading the committed offsets, restoring the
 * state stores), dropping a partition another instance took over, and the watchdog for
 * a fenced partition that the group still gives to this instance. Across its tasks, it
 * runs the clock steps and lets caught-up partitions' clocks follow the furthest.
 */
import type { Admin, Kafka } from 'kafkajs';
import type { StateCodec } from '../topology.ts';
import { PRODUCER_BASE } from './committer.ts';
import { backoff, isTransient, sleep } from './errors.ts';
import { type FailureScope, PartitionTask, type TaskContext } from './partition-task.ts';
import { restoreStores, StateStore } from './state-store.ts';
import type { Transaction } from './transaction.ts';

/** A clock step of one partition, in its transaction. */
export type ClockStepRun<S> = (txn: Transaction<S>, task: PartitionTask<S>) => Promise<void>;

/** What the task manager needs of the runner, beside what its tasks need. */
export interface TaskManagerContext<S> extends Omit<TaskContext<S>, 'committed' | 'fenced' | 'refreshStateGauge'> {
  readonly kafka: Kafka;
  admin(): Admin;
  readonly groupId: string;
  readonly changelog: string;
  readonly instanceId: string;
  readonly exactlyOnce: boolean;
  readonly codec: StateCodec<S>;
  readonly sessionTimeoutMs: number;
}

export class TaskManager<S> {
  readonly tasks = new Map<number, PartitionTask<S>>();
  /** Whether the group assigned partitions at least once. */
  assignedOnce = false;
  /** The partitions of the last assignment, and how many assignments there were. */
  #assigned = new Set<number>();
  #generation = 0;
  readonly #c: TaskManagerContext<S>;
  readonly #taskContext: TaskContext<S>;

  constructor(context: TaskManagerContext<S>) {
    this.#c = context;
    this.#taskContext = {
      ...context,
      committed: () => this.followFurthest(),
      fenced: (task) => this.#dropFenced(task),
      refreshStateGauge: () => this.refreshStateGauge(),
    };
  }

  /** Keys held in this instance's state stores. */
  stateSize(): number {
    let n = 0;
    for (const task of this.tasks.values()) n += task.store.size;
    return n;
  }

  refreshStateGauge(): void {
    this.#c.metrics.stateCustomers.set({ service: this.#c.service }, this.stateSize());
  }

  /** Takes the group's new assignment: drops the partitions gone, activates the new ones. */
  onAssignment(assignment: Record<string, number[]>): void {
    const c = this.#c;
    const assigned = new Set<number>();
    for (const topic of c.topology.inputs) for (const p of assignment[topic] ?? []) assigned.add(p);
    this.assignedOnce = true;
    this.#assigned = assigned;
    this.#generation++;
    for (const [partition, task] of this.tasks) {
      if (!assigned.has(partition)) {
        task.revoked = true;
        this.tasks.delete(partition);
        void task.withLock(() => task.release());
        c.log.info({ partition }, 'partition revoked; its state is dropped (it lives on in the changelog)');
      }
    }
    const fresh: PartitionTask<S>[] = [];
    for (const partition of [...assigned].sort((a, b) => a - b)) {
      if (this.tasks.has(partition)) continue;
      const store = new StateStore(
        partition,
        c.codec,
        c.changelog,
        c.topology.tick ? c.dueOf : null,
        c.topology.stateCodec !== undefined,
      );
      const task = new PartitionTask(partition, store, this.#taskContext);
      this.tasks.set(partition, task);
      fresh.push(task);
    }
    if (fresh.length === 0) return;
    const activation = this.#activate(fresh);
    for (const task of fresh) task.lockUntil(activation);
    activation.catch((err: unknown) => c.log.error({ err }, 'could not activate assigned partitions'));
    c.log.info({ partitions: fresh.map((t) => t.partition) }, 'partitions assigned');
  }

  /**
   * Fences the previous owner of each partition (exactly-once), then reads the committed
   * offsets and restores state from the changelog. Retries transient failures.
   */
  async #activate(tasks: PartitionTask<S>[]): Promise<void> {
    const c = this.#c;
    for (let attempt = 0; ; attempt++) {
      try {
        if (c.exactlyOnce) {
          for (const task of tasks) {
            if (task.producer) continue;
            const producer = c.kafka.producer({
              ...PRODUCER_BASE,
              transactionalId: `${c.groupId}-${task.partition}`,
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
        this.refreshStateGauge();
        for (const task of tasks) if (task.active) void task.withLock(() => task.announceClock());
        return;
      } catch (err) {
        if (c.stopping() || tasks.every((t) => t.revoked)) return;
        if (!isTransient(err) || attempt >= 20) throw err;
        c.metrics.retries.inc({ service: c.service, reason: 'activation' });
        c.log.warn({ err, attempt }, 'activating partitions failed; retrying');
        await sleep(backoff(attempt));
      }
    }
  }

  async #readCommittedOffsets(tasks: PartitionTask<S>[]): Promise<void> {
    const c = this.#c;
    const admin = c.admin();
    const committed = await admin.fetchOffsets({ groupId: c.groupId, topics: [...c.topology.inputs] });
    for (const { topic, partitions } of committed) {
      for (const { partition, offset } of partitions) {
        const task = tasks.find((t) => t.partition === partition);
        if (task && Number(offset) >= 0) task.records.nextOffset.set(topic, BigInt(offset));
      }
    }
    // Where each input stands now, so that the merge knows which topics have records to wait for.
    for (const topic of c.topology.inputs) {
      for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
        const task = tasks.find((t) => t.partition === partition);
        if (!task) continue;
        task.records.startAt(topic, task.records.nextOffset.get(topic) ?? BigInt(low), BigInt(high));
      }
    }
  }

  async #restore(tasks: PartitionTask<S>[]): Promise<void> {
    const c = this.#c;
    const started = c.now();
    const restored = await restoreStores(
      {
        kafka: c.kafka,
        admin: c.admin(),
        changelog: c.changelog,
        groupId: `${c.groupId}.restore.${c.instanceId}.${crypto.randomUUID()}`,
      },
      tasks.map((t) => t.store),
    );
    const seconds = (c.now() - started) / 1000;
    c.metrics.stateRestoreDuration.observe({ service: c.service }, seconds);
    c.log.info(
      {
        partitions: tasks.map((t) => t.partition),
        records: restored,
        keys: tasks.reduce((n, t) => n + t.store.size, 0),
        seconds,
      },
      'state restored from the changelog',
    );
  }

  /** Another instance fenced this one out of a partition: the task goes, and a rebalance should follow. */
  async #dropFenced(task: PartitionTask<S>): Promise<void> {
    this.#c.log.warn({ partition: task.partition }, 'another instance took over this partition; dropping it');
    task.revoked = true;
    this.tasks.delete(task.partition);
    await task.release();
    this.#expectRebalance(task.partition);
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
      if (this.#c.stopping() || this.#generation !== generation || !this.#assigned.has(partition)) return;
      if (this.tasks.has(partition)) return;
      this.#c.fail(new Error(`partition ${partition} was fenced but is still assigned here`), partition, 'process');
    }, this.#c.sessionTimeoutMs * 2);
    timer.unref();
  }

  /** Releases every task (the runner stops). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.tasks.values()].map((t) => t.release()));
  }

  /**
   * Runs a clock step on each active partition (every one by default), each in a
   * transaction of its own. Returns the records written.
   */
  async runClockStep(step: ClockStepRun<S>, tasks: readonly PartitionTask<S>[] = [...this.tasks.values()]) {
    if (!this.#c.clockStep.enabled || this.#c.stopping()) return 0;
    let emitted = 0;
    for (const task of tasks) {
      if (!task.active || task.revoked) continue;
      emitted += await task.runClockStep(step);
    }
    return emitted;
  }

  /** The clock step that moves a partition's clock on to `at`, midnight by midnight. */
  clockTo(at: number, onlyCaughtUp: boolean): ClockStepRun<S> {
    return async (txn, task) => {
      if (onlyCaughtUp && !task.caughtUp()) return;
      await this.#c.clockStep.moveTo(txn, at, task.partition);
    };
  }

  /**
   * The partitions of this instance with nothing to process follow the one whose clock
   * is furthest: their clocks pass the same midnights, as a replay's one clock would, and
   * their watermarks let stages that wait for every partition (the structural count, the
   * learning snapshot) go on without waiting for the wall clock. Runs after every commit:
   * a partition may have caught up after another's clock moved.
   */
  followFurthest(): void {
    if (!this.#c.clockStep.enabled || this.#c.stopping()) return;
    let at: number | null = null;
    for (const t of this.tasks.values())
      if (t.active && t.store.clock !== null && (at === null || t.store.clock > at)) at = t.store.clock;
    if (at === null) return;
    const target = at;
    const followers = [...this.tasks.values()].filter(
      (t) =>
        t.active && !t.revoked && t.open === null && (t.store.clock === null || t.store.clock < target) && t.caughtUp(),
    );
    if (followers.length > 0) void this.runClockStep(this.clockTo(target, true), followers);
  }
}

export type { FailureScope };
