/**
 * What the engine's state costs per customer, in the changelog and in memory: the states
 * the engine holds after a generated population's history, as Avro (the engine's codec)
 * and as JSON. Heap is measured by decoding N states into a Map, after a full GC on both
 * sides. Run: node --expose-gc --conditions=source services/engine/scripts/state-footprint.ts [customers] [N]
 */
import { learningPolicy } from '@churn/domain/testing';
import { generatePopulation } from '../../../packages/cli/src/generate.ts';
import { engineStateCodec } from '../src/state-codec.ts';
import { type EngineState, engineTopology } from '../src/topology.ts';

const DAY = 86_400_000;
const customers = Number(process.argv[2] ?? 2_000);
const held = Number(process.argv[3] ?? 100_000);
const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with --expose-gc');
const gc = () => {
  collect();
  collect();
};

/** The engine's states after the history, with a clock step at every midnight for the keys due. */
function statesAfterHistory(): EngineState[] {
  const topology = engineTopology(learningPolicy);
  const store = new Map<string, EngineState>();
  let clock = Number.NEGATIVE_INFINITY;
  const put = (key: string, state: EngineState | undefined) => {
    if (state === undefined) store.delete(key);
    else store.set(key, state);
  };
  for (const e of generatePopulation({ customers, months: 14, seed: 3 })) {
    if (!topology.inputs.includes(e.topic)) continue;
    const at = (e.value as { occurredAt: number }).occurredAt;
    const midnight = Math.floor(at / DAY) * DAY;
    if (clock === Number.NEGATIVE_INFINITY) clock = midnight;
    while (clock < midnight) {
      clock += DAY;
      for (const [key, state] of [...store]) {
        if (topology.dueAt && topology.dueAt(key, state) > clock) continue;
        put(key, topology.tick?.(key, state, clock).state);
      }
    }
    try {
      put(e.key, topology.process({ topic: e.topic, key: e.key, value: e.value }, store.get(e.key), at).state);
    } catch {
      // A record the engine dead-letters leaves the state as it was.
    }
  }
  return [...store.values()];
}

function heapPerState(decode: (i: number) => unknown): number {
  const map = new Map<number, unknown>();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < held; i++) map.set(i, decode(i));
  gc();
  const after = process.memoryUsage().heapUsed;
  if (map.size !== held) throw new Error('lost states');
  return (after - before) / held;
}

function microsPer(n: number, run: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) run(i);
  const started = performance.now();
  for (let i = 0; i < n; i++) run(i);
  return ((performance.now() - started) * 1000) / n;
}

const states = statesAfterHistory();
const avro = states.map((s) => engineStateCodec.encode(s));
const json = states.map((s) => Buffer.from(JSON.stringify(s)));
const mean = (list: Buffer[]) => list.reduce((n, b) => n + b.length, 0) / list.length;
const n = states.length;
// The Map's own entries (a number key and a pointer each), to subtract from both.
const mapOnly = heapPerState(() => 0);
const report = {
  customers: n,
  changelogBytes: { avro: Math.round(mean(avro)), json: Math.round(mean(json)) },
  heapBytes: {
    avro: Math.round(heapPerState((i) => engineStateCodec.decode(avro[i % n]!)) - mapOnly),
    json: Math.round(heapPerState((i) => JSON.parse(json[i % n]!.toString('utf8'))) - mapOnly),
    mapEntry: Math.round(mapOnly),
  },
  microsPerState: {
    avroEncode: +microsPer(100_000, (i) => engineStateCodec.encode(states[i % n]!)).toFixed(2),
    avroDecode: +microsPer(100_000, (i) => engineStateCodec.decode(avro[i % n]!)).toFixed(2),
    jsonEncode: +microsPer(100_000, (i) => Buffer.from(JSON.stringify(states[i % n]!))).toFixed(2),
    jsonDecode: +microsPer(100_000, (i) => JSON.parse(json[i % n]!.toString('utf8'))).toFixed(2),
  },
};
console.log(JSON.stringify(report, null, 2));
