/**
 * State: restore time from the changelog, and heap bytes per customer kept.
 *
 * A changelog topic (3 partitions, compacted) is filled once with `customers` states
 * as the engine writes them: its whole state per customer (the value with its invoices,
 * the decisions, the signals and the follow-ups) in its state codec (versioned Avro),
 * keyed by customerId, in the partition of the key, in transactions of 1 000 records,
 * plus each partition's clock. The states are those the engine leaves after a generated
 * population's history, repeated under new customer ids.
 *
 * Each repetition starts a KafkaRunner on that changelog (a topology with an empty
 * input) and waits until it is ready: the restore time is the runner's own
 * (churn_state_restore_duration_seconds), the heap per customer is the heap growth
 * over the restore (after a full GC both sides) divided by the keys held.
 */
import { allTopologies, SHAPES } from '@churn/cli';
import { createKafka, createLogger, KafkaRunner, PipelineMetrics, type Topology } from '@churn/runtime';
import type { Producer } from 'kafkajs';
import {
  benchKafka,
  benchSerde,
  deleteGroups,
  deleteTopics,
  machineNow,
  PARTITIONS,
  pipelineLikeProducer,
  policy,
  progress,
  serviceConfig,
  sleep,
  summarize,
  until,
} from './common.ts';
import { generate } from './workload.ts';

export interface StateArgs {
  customers: number;
  warmups: number;
  reps: number;
}

const NAME = 'bench-restore';
const CHANGELOG = `${NAME}-state-changelog`;
const INPUT = 'bench.restore.input';
const CLOCK_KEY = '\u0000churn.clock';

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('the state figure needs --expose-gc');
  collect();
  collect();
}

let engineTopology: Topology<unknown> | null = null;

/** The engine's topology: the state the figure restores (built once). */
function engine(): Topology<unknown> {
  engineTopology ??= allTopologies(policy(), 'engine').find((t) => t.name === 'churn-engine') as Topology<unknown>;
  return engineTopology;
}

/** The states a topology keeps after a generated history: JSON per customer. */
function templates(service = 'churn-engine'): { json: string; id: string }[] {
  const decisions = SHAPES.flatMap((shape) => allTopologies(policy(), shape)).find(
    (t) => t.name === service,
  ) as Topology<unknown>;
  const store = new Map<string, unknown>();
  for (const e of generate({ customers: 1_000, months: 14, seed: 3 })) {
    if (!decisions.inputs.includes(e.topic)) continue;
    const at = (e.value as { occurredAt: number }).occurredAt;
    try {
      const result = decisions.process({ topic: e.topic, key: e.key, value: e.value }, store.get(e.key), at);
      if (result.state === undefined) store.delete(e.key);
      else store.set(e.key, result.state);
    } catch {
      // A record the service would dead-letter leaves the state as it was.
    }
  }
  return [...store].map(([id, state]) => ({ id, json: JSON.stringify(state) }));
}

/** Fills the changelog with `customers` states, one transactional producer per partition. */
async function fill(customers: number): Promise<{ records: number; bytes: number; seconds: number }> {
  const kafka = benchKafka('churn-bench-state');
  const admin = kafka.admin();
  await admin.connect();
  await deleteGroups(admin, (g) => g.startsWith(NAME));
  await deleteTopics(admin, (t) => t === CHANGELOG || t === INPUT || t.startsWith(`${INPUT}.`));
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic: CHANGELOG,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'min.compaction.lag.ms', value: '0' },
        ],
      },
    ],
  });
  await admin.disconnect();
  const states = templates();
  progress(
    `state: ${states.length} distinct engine states (mean ${Math.round(states.reduce((n, s) => n + s.json.length, 0) / states.length)} bytes of JSON); writing ${customers} to ${CHANGELOG}`,
  );
  const started = performance.now();
  const producers: Producer[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const producer = pipelineLikeProducer(kafka, `${NAME}-fill-${p}`);
    await producer.connect();
    producers.push(producer);
  }
  // The partition a key lands in, as the services' partitioner puts it.
  const { Partitioners } = await import('kafkajs');
  const partitionOf = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({
    partitionId: i,
    leader: 1,
    replicas: [1],
    isr: [1],
    partitionErrorCode: 0,
  }));
  const codec = engine().stateCodec;
  if (!codec) throw new Error('the engine has no state codec');
  const queues: Array<Array<{ key: string; value: string | Buffer }>> = Array.from({ length: PARTITIONS }, () => []);
  let bytes = 0;
  let records = 0;
  // Transactions of one partition one after another (one producer each), partitions side by side.
  const chains: Array<Promise<void>> = producers.map(() => Promise.resolve());
  const flush = (p: number) => {
    const messages = queues[p]!.splice(0).map((m) => ({ ...m, partition: p }));
    if (messages.length === 0) return;
    chains[p] = chains[p]!.then(async () => {
      const txn = await producers[p]!.transaction();
      await txn.send({ topic: CHANGELOG, messages, acks: -1 });
      await txn.commit();
    });
  };
  let next = 100_000;
  for (let i = 0; i < customers; i++) {
    const template = states[i % states.length]!;
    const key = `cust-${String(i + 1).padStart(7, '0')}`;
    const value = codec.encode(JSON.parse(template.json.replaceAll(template.id, key)));
    const p = partitionOf({ topic: CHANGELOG, partitionMetadata, message: { key, value } });
    queues[p]!.push({ key, value });
    bytes += key.length + value.length;
    records++;
    if (queues[p]!.length >= 1_000) flush(p);
    if ((i + 1) % 30_000 === 0) await Promise.all(chains);
    if (i + 1 >= next) {
      progress(`  ${i + 1} states written`);
      next += 100_000;
    }
  }
  for (let p = 0; p < PARTITIONS; p++) {
    queues[p]!.push({ key: CLOCK_KEY, value: JSON.stringify({ at: Date.UTC(2026, 10, 22) }) });
    flush(p);
  }
  await Promise.all(chains);
  for (const producer of producers) await producer.disconnect();
  return { records, bytes, seconds: (performance.now() - started) / 1000 };
}

interface Rep {
  restoreSeconds: number;
  /** CPU seconds of this process from start to ready. */
  cpuSeconds: number;
  readySeconds: number;
  keys: number;
  heapBytesPerCustomer: number;
}

async function once(): Promise<Rep> {
  const codec = engine().stateCodec;
  const topology: Topology<unknown> = {
    name: NAME,
    inputs: [INPUT],
    outputs: [],
    internalTopics: [{ topic: INPUT, record: 'CancellationRequested', partitions: PARTITIONS }],
    process: () => ({ state: undefined, emit: [] }),
    ...(codec ? { stateCodec: codec } : {}),
  };
  const config = serviceConfig();
  const logger = createLogger({ service: NAME, level: 'fatal' });
  const metrics = new PipelineMetrics({ defaultMetrics: false });
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  let runner: KafkaRunner<unknown> | null = new KafkaRunner({
    topology,
    kafka: createKafka(config, `${NAME}-${process.pid}`, logger),
    serde: benchSerde(),
    logger,
    metrics,
    instanceId: `${NAME}-${process.pid}`,
    tickIntervalMs: 0,
  });
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    await runner.start();
    await until('the restore', () => runner?.isReady() === true, 600_000, 20);
    const readySeconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const keys = runner.stateSize();
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const histogram = (await metrics.stateRestoreDuration.get()).values;
    const restoreSeconds =
      histogram.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value ?? 0;
    return {
      restoreSeconds,
      cpuSeconds: (used.user + used.system) / 1e6,
      readySeconds,
      keys,
      heapBytesPerCustomer: (heapAfter - heapBefore) / keys,
    };
  } finally {
    await runner.stop();
    runner = null;
    await sleep(100);
    gc();
  }
}

/** `count` states as a changelog holds them: JSON bytes under their customer ids. */
function changelogRecords(service: string, count: number): Array<{ key: string; value: Buffer }> {
  const states = templates(service);
  const records: Array<{ key: string; value: Buffer }> = [];
  for (let i = 0; i < count; i++) {
    const t = states[i % states.length]!;
    const key = `cust-${String(i + 1).padStart(7, '0')}`;
    records.push({ key, value: Buffer.from(t.json.replaceAll(t.id, key)) });
  }
  return records;
}

/** What a restore builds: the parsed state of every key in a Map. */
function parseAll(records: ReadonlyArray<{ key: string; value: Buffer }>): Map<string, unknown> {
  const store = new Map<string, unknown>();
  for (const r of records) store.set(r.key.slice(), JSON.parse(r.value.toString('utf8')));
  return store;
}

/**
 * Heap bytes per customer of each per-customer service's state, without Kafka: `count`
 * states parsed from their changelog bytes (as a restore does) into a Map. Each step
 * runs in a function of its own, so that no stale interpreter register keeps garbage alive.
 */
function heapByService(count: number): Record<string, { jsonBytes: number; heapBytes: number }> {
  const out: Record<string, { jsonBytes: number; heapBytes: number }> = {};
  for (const service of [
    'churn-engine',
    'churn-customer-value',
    'churn-decisions',
    'churn-signals',
    'churn-follow-ups',
  ]) {
    out[service] = heapOf(service, count);
    progress(
      `state of ${service}: ${out[service].heapBytes} heap bytes per customer (${out[service].jsonBytes} bytes of JSON)`,
    );
  }
  return out;
}

function heapOf(service: string, count: number): { jsonBytes: number; heapBytes: number } {
  const records = changelogRecords(service, count);
  gc();
  const before = process.memoryUsage().heapUsed;
  const store = parseAll(records);
  gc();
  const heapBytes = Math.round((process.memoryUsage().heapUsed - before) / store.size);
  return { jsonBytes: Math.round(records.reduce((n, r) => n + r.value.length, 0) / count), heapBytes };
}

export async function run(args: StateArgs) {
  const byService = heapByService(Math.min(args.customers, 100_000));
  const filled = await fill(args.customers);
  progress(
    `state: changelog filled, ${filled.records} states, ${(filled.bytes / 1e6).toFixed(0)} MB in ${filled.seconds.toFixed(1)} s`,
  );
  const reps: Rep[] = [];
  for (let i = 0; i < args.warmups + args.reps; i++) {
    const r = await once();
    const warm = i < args.warmups;
    progress(
      `state ${warm ? 'warm-up' : `rep ${i - args.warmups + 1}/${args.reps}`}: ${r.keys} customers restored in ${r.restoreSeconds.toFixed(2)} s, ${r.cpuSeconds.toFixed(1)} CPU s (ready after ${r.readySeconds.toFixed(2)} s), ${Math.round(r.heapBytesPerCustomer)} heap bytes per customer (load ${machineNow().loadavg[0]})`,
    );
    if (!warm) reps.push(r);
  }
  const kafka = benchKafka('churn-bench-state');
  const admin = kafka.admin();
  await admin.connect();
  await deleteTopics(admin, (t) => t === CHANGELOG || t === INPUT || t.startsWith(`${INPUT}.`));
  await deleteGroups(admin, (g) => g.startsWith(NAME));
  await admin.disconnect();
  return {
    customers: args.customers,
    changelogBytes: filled.bytes,
    /** Key and value bytes per changelog record (the engine's Avro state). */
    meanStateBytes: Math.round(filled.bytes / filled.records),
    fillSeconds: Number(filled.seconds.toFixed(1)),
    restoreSeconds: summarize(
      reps.map((r) => r.restoreSeconds),
      2,
    ),
    cpuSeconds: summarize(
      reps.map((r) => r.cpuSeconds),
      2,
    ),
    readySeconds: summarize(
      reps.map((r) => r.readySeconds),
      2,
    ),
    heapBytesPerCustomer: summarize(reps.map((r) => r.heapBytesPerCustomer)),
    keysRestored: reps.map((r) => r.keys),
    heapByService: byService,
  };
}
