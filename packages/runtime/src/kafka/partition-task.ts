/**
 * One input partition's task: its state store, its decoding buffer, and the drain loop
 * that merges its buffered records in event-time order into the open transaction and
 * commits it. Work on a partition runs under its lock, one piece at a time: a chunk of
 * the merge, a clock step, the commit before leaving.
 *
 * The open transaction commits when it holds outputs or dead letters (someone
 * downstream waits for them), when it is full, or once it is `commitIntervalMs` old.
 */
import { ChurnError } from '@churn/contracts';
import type { ContractSerde } from '@churn/serde';
import type { IHeaders, Message, Producer } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { PipelineMetrics } from '../metrics.ts';
import type { Topology } from '../topology.ts';
import type { ClockStep } from './clock-step.ts';
import { type Committer, offsetsAfter, type TopicOffsets } from './committer.ts';
import type { DeadLetters } from './dead-letter.ts';
import { midnightOf } from './due-index.ts';
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
import { nextRecords, sharedTimeOf } from './event-time-merge.ts';
import { type BufferedRecord, RecordBuffer } from './record-buffer.ts';
import type { StateStore } from './state-store.ts';
import { outputMessage, Transaction } from './transaction.ts';

/**
 * Records per transaction at most. Over a backlog, a larger transaction writes each
 * customer's state to the changelog once for all the records it holds of that customer:
 * 5 000 rather than 1 000 records per transaction took a third off the pipeline's CPU
 * per event in the benchmark. Live, a transaction holds what has arrived, a few records.
 */
const MAX_CHUNK = 5_000;
/**
 * How long the merge waits, at most, for records known to be on their way (being
 * decoded, or in a topic since the partition was assigned) before it goes on without
 * them; MERGE_IDLE_MS bounds the wait for records it only may be missing.
 */
const OWED_WAIT_MS = 30_000;
/**
 * Records waiting when a commit ends that make the partition count as loaded: records
 * arrive faster than transactions commit one by one. A loaded partition's transaction
 * stays open for up to COMMIT_INTERVAL_MS even when it has outputs, as Kafka Streams
 * commits on its commit interval, unless it passes a midnight; an unloaded one commits
 * outputs at once, so that a cancellation at a low rate is decided within one
 * transaction's round trips.
 */
const LOADED_RECORDS = 16;
/** Input bytes per transaction at most (one record always goes). */
const MAX_CHUNK_BYTES = 1024 * 1024;

/** How far a failure reaches: the whole process (it must restart), or this partition until the next rebalance. */
export type FailureScope = 'process' | 'partition';

/** What a partition task needs of the runner. */
export interface TaskContext<S> {
  readonly service: string;
  readonly topology: Topology<S>;
  readonly serde: Pick<ContractSerde, 'encode'>;
  readonly metrics: PipelineMetrics;
  readonly log: Logger;
  readonly maxAttempts: number;
  readonly mergeIdleMs: number;
  readonly commitIntervalMs: number;
  /** Merge order of records with the same event time. */
  readonly ranks: ReadonlyMap<string, number>;
  readonly clockStep: ClockStep<S>;
  readonly deadLetters: DeadLetters;
  committer(): Committer;
  /** What time it is (the runner's time source). */
  now(): number;
  /** Monotonic milliseconds, for waits that timers end. */
  elapsed(): number;
  dueOf(key: string, state: S | undefined): number;
  stopping(): boolean;
  /** Fetching of a topic of this partition may go on. */
  resume(topic: string, partition: number): void;
  /** A transaction of this partition committed. */
  committed(): void;
  /** Another instance took this partition over. */
  fenced(task: PartitionTask<S>): Promise<void>;
  /** The one way to fail: the runner is no longer alive. */
  fail(err: unknown, partition: number | null, scope: FailureScope): void;
  refreshStateGauge(): void;
}

export class PartitionTask<S> {
  readonly partition: number;
  readonly store: StateStore<S>;
  /** Its fetched records and where each input topic stands. */
  readonly records = new RecordBuffer();
  /** Its transactional producer (exactly-once), once it fenced the previous owner. */
  producer: Producer | null = null;
  /** Fencing, committed offsets and restore; processing waits for it. */
  activation: Promise<void> = Promise.resolve();
  /** Activated and not revoked: its records may be processed. */
  active = false;
  revoked = false;
  /** The transaction being filled (processed, not committed), if any. */
  open: Transaction<S> | null = null;
  #lock: Promise<unknown> = Promise.resolve();
  #draining = false;
  #rerun = false;
  /** Since when the merge waits for a topic to be fetched, and the timer that ends the wait. */
  #waitingSince: number | null = null;
  #waitTimer: NodeJS.Timeout | null = null;
  /** Commits the open transaction when it is old enough. */
  #commitTimer: NodeJS.Timeout | null = null;
  /** Records per chunk while a chunk was too large for the broker; null for the usual bound. */
  #chunkLimit: number | null = null;
  /** Whether records kept arriving while the last transaction committed (see LOADED_RECORDS). */
  #loaded = false;
  readonly #c: TaskContext<S>;

  constructor(partition: number, store: StateStore<S>, context: TaskContext<S>) {
    this.partition = partition;
    this.store = store;
    this.#c = context;
  }

  /** Whether it has processed every record of its inputs up to the high watermarks seen. */
  caughtUp(): boolean {
    return this.records.caughtUp(this.#c.topology.inputs);
  }

  /** Runs `work` once what runs on the partition now is done. */
  withLock<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Runs after the activation, whether it succeeds or not. */
  lockUntil(activation: Promise<void>): void {
    this.activation = activation;
    this.#lock = activation.catch(() => {});
  }

  /** Runs the merge until it has nothing it may process; one run at a time. */
  drain(): void {
    if (this.#draining) {
      this.#rerun = true;
      return;
    }
    this.#draining = true;
    const c = this.#c;
    void (async () => {
      let attempt = 0;
      try {
        do {
          this.#rerun = false;
          for (;;) {
            try {
              if (!(await this.withLock(() => this.#processChunk()))) break;
              attempt = 0;
            } catch (err) {
              if (err instanceof TransactionOutcomeUnknown) {
                c.fail(err, this.partition, 'process');
                return;
              }
              if (isFenced(err)) {
                await c.fenced(this);
                return;
              }
              if (!isTransient(err) || c.stopping() || this.revoked) throw err;
              c.metrics.retries.inc({ service: c.service, reason: err instanceof ChurnError ? err.code : 'kafka' });
              c.log.warn({ err, partition: this.partition, attempt }, 'transient error; retrying the chunk');
              await sleep(backoff(attempt++));
            }
          }
        } while (this.#rerun && !this.revoked && !c.stopping());
      } catch (err) {
        c.fail(err, this.partition, 'partition');
      } finally {
        this.#draining = false;
      }
    })();
  }

  /**
   * Picks the next records in event-time order and processes them into the open
   * transaction, committing it when it should. Returns whether it processed or committed anything.
   */
  async #processChunk(): Promise<boolean> {
    const c = this.#c;
    if (!this.active || this.revoked || c.stopping()) return false;
    let txn = this.open;
    try {
      const { picked, cursor, bytes, gatedAt } = this.#next(txn);
      if (picked.length === 0 && gatedAt !== null) {
        // The next record waits for the shared record of its day, which waits for every
        // partition to pass that midnight: this one passes it now.
        const midnight = midnightOf(gatedAt);
        const clock = txn?.clock ?? this.store.clock;
        if (clock === null || clock < midnight) {
          txn ??= this.newTransaction(cursor);
          this.open = txn;
          await c.clockStep.passMidnights(txn, gatedAt, this.partition);
          await this.commitOpen(txn);
          return true;
        }
      }
      if (picked.length === 0) {
        if (txn === null) return false;
        const age = c.elapsed() - txn.openedAt;
        if (age < c.commitIntervalMs) {
          this.#commitLater(c.commitIntervalMs - age);
          return false;
        }
        await this.commitOpen(txn);
        return true;
      }
      // A transaction opens only once it has records.
      if (txn === null) txn = this.newTransaction(cursor);
      else txn.cursor = cursor;
      txn.bytes += bytes;
      this.open = txn;
      await this.#processInto(txn, picked);
      const limit = this.#chunkLimit ?? MAX_CHUNK;
      // A loaded partition holds its outputs for the commit interval, but never the
      // transaction that passes a midnight: its watermarks are what the single-partition
      // stages wait for, and the learning snapshot they publish is what the next day's
      // cancellations wait for. Stages without a clock step of their own never hold.
      const holds = this.#loaded && c.topology.tick !== undefined && txn.clock === this.store.clock;
      const urgent = txn.out.size > 0 && !holds;
      if (urgent || txn.records >= limit || txn.bytes >= MAX_CHUNK_BYTES || c.commitIntervalMs === 0) {
        await this.commitOpen(txn);
      } else {
        this.#commitLater(c.commitIntervalMs - (c.elapsed() - txn.openedAt));
      }
      return true;
    } catch (err) {
      // Nothing of the open transaction is kept: its records are still buffered and are
      // processed again, from the committed state.
      this.open = null;
      if (isTooLarge(err) && txn !== null && txn.records > 1) {
        // Outputs larger than the byte bound foresaw: the same records again, in halves.
        this.#chunkLimit = Math.max(1, Math.floor(txn.records / 2));
        c.log.warn({ partition: this.partition, records: this.#chunkLimit }, 'transaction too large; smaller chunks');
      }
      throw err;
    }
  }

  /** A new transaction of the partition, from its committed state. */
  newTransaction(cursor?: Map<string, number>): Transaction<S> {
    return new Transaction<S>(this.store, this.#c.dueOf, this.#c.elapsed(), cursor);
  }

  /** Runs the merge again in `ms`, to commit an open transaction that waits for more records. */
  #commitLater(ms: number): void {
    if (this.#commitTimer) return;
    this.#commitTimer = setTimeout(
      () => {
        this.#commitTimer = null;
        this.drain();
      },
      Math.max(0, ms),
    );
    this.#commitTimer.unref();
  }

  /** The merge's next records, after those the open transaction holds; wakes the merge when it waits. */
  #next(open: Transaction<S> | null) {
    const c = this.#c;
    const result = nextRecords<BufferedRecord>({
      inputs: c.topology.inputs,
      ranks: c.ranks,
      buffers: this.records.buffers,
      cursor: open?.cursor ?? new Map<string, number>(),
      fullyFetched: (topic) => this.records.fullyFetched(topic),
      owed: (topic) => this.records.owes(topic),
      owedWaitMs: OWED_WAIT_MS,
      decodeRetrying: this.records.decodeRetrying > 0,
      held: open?.records ?? 0,
      heldBytes: open?.bytes ?? 0,
      maxRecords: this.#chunkLimit ?? MAX_CHUNK,
      maxBytes: MAX_CHUNK_BYTES,
      ...(c.topology.shared ? { shared: c.topology.shared } : {}),
      // When the partition's shared record is as of: the gate of the records that need it.
      sharedAt: sharedTimeOf(open !== null ? open.shared : this.store.shared),
      waitingSince: this.#waitingSince,
      now: c.elapsed(),
      mergeIdleMs: c.mergeIdleMs,
    });
    this.#waitingSince = result.waitingSince;
    if (result.wakeInMs !== null && !this.#waitTimer) {
      this.#waitTimer = setTimeout(() => {
        this.#waitTimer = null;
        this.drain();
      }, result.wakeInMs);
      this.#waitTimer.unref();
    }
    return result;
  }

  /** Processes picked records (and the clock steps they pass) into the open transaction. */
  async #processInto(txn: Transaction<S>, picked: readonly BufferedRecord[]): Promise<void> {
    const c = this.#c;
    const { topology, serde } = c;
    txn.records += picked.length;
    for (const item of picked) {
      txn.last.set(item.topic, item.offset);
      const source = {
        topic: item.topic,
        partition: this.partition,
        offset: String(item.offset),
        key: item.message.key,
        value: item.message.value,
        headers: item.message.headers as IHeaders,
      };
      if (item.input === null) {
        c.deadLetters.send(txn, source, item.error, 1);
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
      if (c.clockStep.enabled) await c.clockStep.passMidnights(txn, item.time, this.partition);
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
            if (!isRetriable(err) || attempts >= c.maxAttempts) throw new ProcessingFailed(err);
            c.metrics.retries.inc({ service: c.service, reason: 'processing' });
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
        if (err instanceof ProcessingFailed) c.deadLetters.send(txn, source, err.cause, attempts);
        else if (isTransient(err)) throw err;
        else c.deadLetters.send(txn, source, err, Math.max(attempts, 1));
      }
    }
  }

  /** Commits the open transaction, then moves state, positions and buffers on. */
  async commitOpen(txn: Transaction<S>): Promise<void> {
    const c = this.#c;
    const { metrics, service } = c;
    if (this.#commitTimer) {
      clearTimeout(this.#commitTimer);
      this.#commitTimer = null;
    }
    for (const [topic, n] of txn.consumed) metrics.eventsConsumed.inc({ service, topic }, n);
    this.store.stageChangelog(txn);
    const commitStarted = performance.now();
    await this.#commit(txn, offsetsAfter(this.partition, txn.last));
    this.open = null;
    const committedAt = c.now();
    metrics.processingDuration.observe({ service, stage: 'commit' }, (performance.now() - commitStarted) / 1000);
    metrics.processingDuration.observe({ service, stage: 'process' }, txn.processSeconds);
    metrics.processingDuration.observe({ service, stage: 'encode' }, txn.encodeSeconds);

    // Only now, with the transaction committed, do the in-memory state and positions move on.
    this.#applyCommitted(txn);
    this.#chunkLimit = null;
    for (const topic of this.records.committed(txn.cursor, txn.last)) c.resume(topic, this.partition);
    this.#loaded = this.records.bufferedTotal() >= LOADED_RECORDS;
    for (const occurredAt of txn.decisionTimes)
      metrics.decisionLatency.observe(Math.max(0, committedAt - occurredAt) / 1000);
    for (const topic of c.topology.inputs) {
      const high = this.records.highWater.get(topic);
      const next = this.records.nextOffset.get(topic);
      if (high !== undefined && next !== undefined) {
        metrics.consumerLag.set(
          { service, topic, partition: String(this.partition) },
          Math.max(0, Number(high - next)),
        );
      }
    }
    // With its buffers moved on, this partition may have caught up behind another's clock.
    c.committed();
  }

  #commit(txn: Transaction<S>, offsets: TopicOffsets): Promise<void> {
    return this.#c.committer().commit(this, txn.out, offsets);
  }

  #applyCommitted(txn: Transaction<S>): void {
    const { metrics, service } = this.#c;
    this.store.apply(txn);
    for (const [topic, messages] of txn.out) {
      if (topic !== this.store.changelog) metrics.eventsProduced.inc({ service, topic }, messages.length);
    }
    for (const record of txn.outputs) metrics.countOutput(record.topic, record.value);
    for (const dead of txn.deadLetters) metrics.deadLetters.inc({ service, topic: dead.topic, reason: dead.code });
    this.#c.refreshStateGauge();
  }

  /**
   * Runs a clock step in a transaction of its own, from the committed state: records
   * processed but not committed yet are committed first. Returns the records it wrote;
   * a failure waits for the next clock step.
   */
  async runClockStep(step: (txn: Transaction<S>, task: PartitionTask<S>) => Promise<void>): Promise<number> {
    try {
      return await this.withLock(async () => {
        if (this.open) await this.commitOpen(this.open);
        const txn = this.newTransaction();
        await step(txn, this);
        if (txn.isEmpty()) return 0;
        this.store.stageChangelog(txn);
        await this.#commit(txn, []);
        this.#applyCommitted(txn);
        return txn.outputs.length;
      });
    } catch (err) {
      if (!isFenced(err))
        this.#c.log.warn({ err, partition: this.partition }, 'clock step failed; it runs again at the next interval');
      return 0;
    }
  }

  /**
   * Says again where the restored clock stands (the topology's onClock at it), for the
   * stages that wait for every partition: they may not have heard it, when the clock
   * moved while this topology sent nothing (a policy that did not learn yet) or the last
   * transaction before a restart was lost. They take a watermark at most once, so
   * hearing it twice changes nothing.
   */
  async announceClock(): Promise<void> {
    const c = this.#c;
    const clock = this.store.clock;
    if (!c.topology.onClock || clock === null || !this.active || this.revoked || c.stopping()) return;
    try {
      const txn = this.newTransaction();
      await c.clockStep.clockOutputsInto(txn, this.partition, clock);
      if (txn.out.size === 0) return;
      await this.#commit(txn, []);
      this.#applyCommitted(txn);
    } catch (err) {
      c.log.warn({ err, partition: this.partition }, 'could not announce the clock; the next midnight will');
    }
  }

  /** Commits the open transaction before the runner leaves the group. */
  commitBeforeLeaving(): Promise<void> {
    return this.withLock(async () => {
      if (this.open && this.active && !this.revoked) await this.commitOpen(this.open);
    }).catch((err: unknown) => this.#c.log.warn({ err, partition: this.partition }, 'could not commit before leaving'));
  }

  /**
   * Drops what the task holds in memory but its state, and its producer. Its lag series
   * go too: the partition's lag is now the new owner's to report, and a value left here
   * would stand still for as long as this process runs.
   */
  async release(): Promise<void> {
    if (this.#waitTimer) clearTimeout(this.#waitTimer);
    if (this.#commitTimer) clearTimeout(this.#commitTimer);
    const { metrics, service, topology } = this.#c;
    for (const topic of topology.inputs)
      metrics.consumerLag.remove({ service, topic, partition: String(this.partition) });
    this.open = null;
    this.records.clear();
    const producer = this.producer;
    this.producer = null;
    await producer?.disconnect().catch(() => {});
    this.#c.refreshStateGauge();
  }
}
