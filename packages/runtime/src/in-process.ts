/**
 * Runs topologies in one process, without Kafka: each input record goes to every
 * topology that reads its topic, and what they emit goes on to the topologies that read
 * those topics, in order. State lives in memory, one map per topology. This is the
 * built-in default of `npm start` and the engine of `churnctl replay`.
 */
import { eventTimeOf, type InputRecord, type OutputRecord, type Topology } from './topology.ts';

export class InProcessRunner {
  readonly #topologies: readonly Topology[];
  readonly #stores = new Map<string, Map<string, unknown>>();
  readonly #readers = new Map<string, Topology[]>();

  constructor(topologies: readonly Topology[]) {
    this.#topologies = topologies;
    for (const topology of topologies) {
      this.#stores.set(topology.name, new Map());
      for (const topic of topology.inputs) {
        const list = this.#readers.get(topic) ?? [];
        list.push(topology);
        this.#readers.set(topic, list);
      }
    }
  }

  /**
   * Processes one record and everything it causes downstream; returns every output
   * record in the order it was produced.
   */
  feed(record: InputRecord): OutputRecord[] {
    const outputs: OutputRecord[] = [];
    const queue: InputRecord[] = [record];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const now = eventTimeOf(next.value);
      for (const topology of this.#readers.get(next.topic) ?? []) {
        const store = this.#stores.get(topology.name) as Map<string, unknown>;
        const result = topology.process(next, store.get(next.key), now);
        if (result.state === undefined) store.delete(next.key);
        else store.set(next.key, result.state);
        for (const out of result.emit) {
          outputs.push(out);
          queue.push(out);
        }
      }
    }
    return outputs;
  }

  /** Advances the clock of every key of every topology that has one to `at`. */
  tick(at: number): OutputRecord[] {
    const outputs: OutputRecord[] = [];
    for (const topology of this.#topologies) {
      if (!topology.tick) continue;
      const store = this.#stores.get(topology.name) as Map<string, unknown>;
      for (const key of [...store.keys()].sort()) {
        const result = topology.tick(key, store.get(key), at);
        if (result.state === undefined) store.delete(key);
        else store.set(key, result.state);
        for (const out of result.emit) {
          outputs.push(out);
          for (const downstream of this.feedDownstream(out)) outputs.push(downstream);
        }
      }
    }
    return outputs;
  }

  private feedDownstream(out: OutputRecord): OutputRecord[] {
    return this.#readers.has(out.topic) ? this.feed(out) : [];
  }
}
