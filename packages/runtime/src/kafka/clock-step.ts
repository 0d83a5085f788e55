/**
 * What runs at midnight. A partition's clock is the last midnight UTC (stream time) its
 * clock step ran at. The clock step of a midnight ticks the keys due at it (the
 * topology's `tick`, for the keys its `dueAt` says are due) and then asks the topology
 * for the partition's clock outputs (`onClock`: watermarks). Everything goes into the
 * transaction at hand.
 */
import type { ContractSerde } from '@churn/serde';
import type { OutputRecord, Topology } from '../topology.ts';
import { DAY_MS, midnightOf } from './due-index.ts';
import { outputMessage, type Transaction } from './transaction.ts';

export class ClockStep<S> {
  readonly #topology: Topology<S>;
  readonly #serde: Pick<ContractSerde, 'encode'>;
  /** Partitions of the input topics, as `onClock` is told. */
  inputPartitions = 1;

  constructor(topology: Topology<S>, serde: Pick<ContractSerde, 'encode'>) {
    this.#topology = topology;
    this.#serde = serde;
  }

  /** Whether the topology has a clock step at all (a tick or clock outputs). */
  get enabled(): boolean {
    return this.#topology.tick !== undefined || this.#topology.onClock !== undefined;
  }

  /**
   * Runs the clock step at every midnight between the transaction's clock and a
   * record's event time, before the record; starts the clock at the first record's midnight.
   */
  async passMidnights(txn: Transaction<S>, time: number, partition: number): Promise<void> {
    if (!Number.isFinite(time)) return;
    const midnight = midnightOf(time);
    if (txn.clock === null) {
      // The clock starts at the first record's midnight: the partition has passed it.
      txn.clock = midnight;
      await this.clockOutputsInto(txn, partition, midnight);
      return;
    }
    while (txn.clock < midnight) {
      txn.clock += DAY_MS;
      await this.tickInto(txn, txn.clock);
      await this.clockOutputsInto(txn, partition, txn.clock);
    }
  }

  /**
   * Moves the transaction's clock on to the midnight of `at`, midnight by midnight. A
   * partition without a record yet has nothing to wait for: its clock starts the day
   * before, so that watermarks built from every partition's clock can move on.
   */
  async moveTo(txn: Transaction<S>, at: number, partition: number): Promise<void> {
    const midnight = midnightOf(at);
    if (txn.clock === null) txn.clock = midnight - DAY_MS;
    while (txn.clock < midnight) {
      txn.clock += DAY_MS;
      await this.tickInto(txn, txn.clock);
      await this.clockOutputsInto(txn, partition, txn.clock);
    }
  }

  /** Ticks the keys due at `at` (every key with `all`: tickAll). */
  async tickInto(txn: Transaction<S>, at: number, all = false): Promise<void> {
    const tick = this.#topology.tick;
    if (!tick) return;
    for (const key of all ? txn.keys() : txn.dueKeys(at)) {
      const state = txn.stateOf(key);
      if (state === undefined) continue;
      const result = tick(key, state, at);
      await this.#emitInto(txn, result.emit);
      if (result.state !== state) txn.setState(key, result.state);
    }
  }

  /** The topology's once-per-partition clock outputs (watermarks) at `at`. */
  async clockOutputsInto(txn: Transaction<S>, partition: number, at: number): Promise<void> {
    const onClock = this.#topology.onClock;
    if (!onClock) return;
    await this.#emitInto(txn, onClock(partition, this.inputPartitions, at));
  }

  /** Encodes a clock step's outputs into the transaction. */
  async #emitInto(txn: Transaction<S>, records: readonly OutputRecord[]): Promise<void> {
    for (const record of records) {
      const value = await this.#serde.encode(record.topic, record.value);
      txn.push(record.topic, outputMessage(record, value));
      txn.outputs.push(record);
    }
  }
}
