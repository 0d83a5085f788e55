/**
 * Runs topologies in one process, without Kafka: each input record goes to every
 * topology that reads its topic, and what they emit goes on to the topologies that read
 * those topics, in order. State lives in memory, one map per topology. This is the
 * built-in default of `npm start` and the engine of `churnctl replay`.
 *
 * A record a topology refuses (a ChurnError, such as a cancellation for an unknown
 * customer) is kept as a dead letter, as the Kafka runner would send it to the
 * dead-letter topic, and the other topologies still see the record. Programmer errors
 * are thrown.
 */
import { ChurnError } from '@churn/contracts';
import { eventTimeOf, type InputRecord, type OutputRecord, type Topology } from './topology.ts';

/** A record a topology refused, and why. */
export interface InProcessDeadLetter {
  record: InputRecord;
  service: string;
  error: ChurnError;
}

export class InProcessRunner {
  readonly #topologies: readonly Topology[];
  readonly #stores = new Map<string, Map<string, unknown>>();
  readonly #readers = new Map<string, Topology[]>();
  /** Each topology's latest record of its shared topic (one partition here: the only copy). */
  readonly #shared = new Map<string, unknown>();
  #dead: InProcessDeadLetter[] = [];

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

  /** A topology's latest record of its shared topic (the learning snapshot), if any. */
  sharedOf(topology: string): unknown {
    return this.#shared.get(topology);
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
        if (topology.shared?.topic === next.topic) {
          // Records are fed in event-time order, so the shared record of a midnight is
          // always there before the first gated record of its day.
          this.#shared.set(topology.name, next.value);
          continue;
        }
        const store = this.#stores.get(topology.name) as Map<string, unknown>;
        let result: ReturnType<Topology['process']>;
        try {
          result = topology.process(next, store.get(next.key), now, this.#shared.get(topology.name));
        } catch (error) {
          if (!(error instanceof ChurnError)) throw error;
          this.#dead.push({ record: next, service: topology.name, error });
          continue;
        }
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

  /** The dead letters since the last call, oldest first. */
  takeDeadLetters(): InProcessDeadLetter[] {
    const dead = this.#dead;
    this.#dead = [];
    return dead;
  }

  /**
   * The clock starts at midnight `at` (the first record's): the topologies' once-per-
   * partition clock outputs (watermarks) go out, as the Kafka runner sends them when a
   * partition's clock starts. No key is ticked.
   */
  startClock(at: number): OutputRecord[] {
    const outputs: OutputRecord[] = [];
    for (const topology of this.#topologies) {
      for (const out of topology.onClock?.(0, 1, at) ?? []) {
        outputs.push(out);
        for (const downstream of this.feedDownstream(out)) outputs.push(downstream);
      }
    }
    return outputs;
  }

  /** Advances the clock of every key of every topology that has one to `at`. */
  tick(at: number): OutputRecord[] {
    const outputs: OutputRecord[] = [];
    for (const topology of this.#topologies) {
      for (const out of topology.onClock?.(0, 1, at) ?? []) {
        outputs.push(out);
        for (const downstream of this.feedDownstream(out)) outputs.push(downstream);
      }
      if (!topology.tick) continue;
      const store = this.#stores.get(topology.name) as Map<string, unknown>;
      for (const key of [...store.keys()].sort()) {
        // A key whose clock step is not due yet would not change (see Topology.dueAt).
        if (topology.dueAt && topology.dueAt(key, store.get(key)) > at) continue;
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
