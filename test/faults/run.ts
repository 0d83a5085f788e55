/**
 * The fault suite: drives a generated input, with bad records and duplicates mixed in,
 * through the services of a deployment shape as separate processes against the real
 * broker and registry, injects faults, and compares what came out (read_committed) with
 * the oracle, the in-process replay of the good input: by event id and content, zero
 * missing, zero extra. Every bad record must be in its dead-letter topic once per
 * consumer group that reads it (once, by churn-engine, in the engine shape; once per
 * service reading its topic in the services shape), and counted in
 * churn_dead_letters_total.
 *
 *   npm run test:faults [-- --quick] [--scenario kill,broker] [--shape engine|services]
 *                       [--live] [--customers N] [--seed S]
 *
 * `--shape`: the services of `servicesOf` (default the engine: one service, two
 * instances of it where a scenario kills or pauses one). The input is produced up front
 * (a backlog), except in `live-soak` and, with `--live`, in every scenario: then it is
 * produced at a steady rate across the fault schedule, in file (event-time) order, so
 * that every fault lands mid-stream. An output with an oracle id but other content fails,
 * unless the replay of the input in the order it became readable gives the same: then it
 * is counted apart, as changed by arrival order.
 *
 * Uses KAFKA_BROKERS and SCHEMA_REGISTRY_URL of the local infra (npm run infra:up), which
 * it starts itself when nothing answers; the broker and registry faults stop and start
 * them through infra/local (CHURN_INFRA_DIR and the CHURN_* ports say which). Writes
 * test/faults/results/<date>[-services][-live]-<full|quick>.json and prints a Markdown
 * table. Exits 1 when any scenario lost, duplicated or changed an output (other than by
 * arrival order) or a dead letter.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type OfflineEvent, Random, replay, SHAPES, type Shape } from '@churn/cli';
import { deadLetterTopicOf } from '@churn/contracts';
import { loadPolicy } from '@churn/domain';
import { commandLine, DEFAULT_POLICY_FILE, type OutputRecord, readJsonFile } from '@churn/runtime';
import { ContractSerde } from '@churn/serde';
import {
  type ClusterEnv,
  encodeInput,
  infra,
  type Outgoing,
  type ProduceStats,
  produceInput,
  Reader,
  resetCluster,
} from './cluster.ts';
import { FAULT_HEADER, type FaultInput, goodEvents, INPUT_TOPICS, mixInput } from './input.ts';
import { LivePace, type LiveReport } from './live.ts';
import { Instance, serviceEnv, servicesOfShape } from './processes.ts';
import {
  type FaultContext,
  type FaultRecord,
  LIVE_SCENARIOS,
  runScenario,
  SCENARIOS,
  type Scenario,
  scheduleOf,
} from './scenarios.ts';

const COMPARED = ['churn.customer-value.v1', 'churn.decisions.v1', 'contact-center.tasks.v1', 'churn.alerts.v1'];
const DLQ_TOPICS = INPUT_TOPICS.map(deadLetterTopicOf);
const repoRoot = resolve(import.meta.dirname, '../..');
const log = (line: string) => process.stderr.write(`faults: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const USAGE = `npm run test:faults [-- options]: drives a generated input with bad records through the
pipeline's processes against the real broker and registry, injects faults, and compares
what came out with the in-process replay; exits 1 when a scenario lost, duplicated or
changed an output or a dead letter.

Options:
  --quick            150 customers; bad-input, kill (3 SIGKILLs) and soak (what CI runs)
  --scenario A,B     some scenarios: ${SCENARIOS.join(', ')}
  --shape SHAPE      the deployment shape: ${SHAPES.join(' (default), ')}
  --live             produce the input at a steady rate across every scenario's faults
  --customers N      customers of the generated input (default 950; 150 with --quick)
  --seed S           the generator's seed (default 11)
  --bad-share X      share of bad records mixed in (default 0.1)
  --help             this text
`;

/** A bad value of an option: one line naming it, and the usage exit code. */
function usageError(message: string): never {
  process.stderr.write(`faults: ${message} (see --help)\n`);
  process.exit(2);
}

const { values: args } = commandLine('faults', USAGE, () =>
  parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string' },
      customers: { type: 'string' },
      seed: { type: 'string', default: '11' },
      'bad-share': { type: 'string', default: '0.1' },
      shape: { type: 'string', default: 'engine' },
      live: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }),
);
const quick = args.quick === true;
const shape = args.shape as Shape;
if (!SHAPES.includes(shape)) usageError(`--shape: unknown shape ${shape}; one of ${SHAPES.join(', ')}`);
const services = servicesOfShape(shape);
const live = args.live === true;
const scenarios = (args.scenario?.split(',') ?? (quick ? ['bad-input', 'kill', 'soak'] : [...SCENARIOS])) as Scenario[];
for (const s of scenarios)
  if (!SCENARIOS.includes(s)) usageError(`--scenario: unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
const customers = Number(args.customers ?? (quick ? 150 : 950));
const seed = Number(args.seed);

const env: ClusterEnv = {
  brokers: process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.CHURN_KAFKA_PORT ?? 19092}`,
  registryUrl:
    process.env.SCHEMA_REGISTRY_URL ?? `http://127.0.0.1:${process.env.CHURN_REGISTRY_PORT ?? 18081}/apis/ccompat/v7`,
};

interface Expected {
  /** topic -> "eventId content" -> count */
  outputs: Map<string, Map<string, number>>;
  total: number;
}

const canonical = (value: unknown) => JSON.stringify(value);
const eventIdOf = (value: unknown) => (value as { eventId?: string | null }).eventId ?? '';

/** The replay of `events`, in their order, by topic and content. */
async function oracle(events: readonly OfflineEvent[], file: string): Promise<Expected> {
  writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const outputs = new Map<string, Map<string, number>>(COMPARED.map((t) => [t, new Map()]));
  let total = 0;
  const result = await replay(
    file,
    { policy: loadPolicy(readJsonFile(DEFAULT_POLICY_FILE)) },
    (r: OutputRecord) => {
      const byContent = outputs.get(r.topic);
      if (!byContent) return;
      const key = `${eventIdOf(r.value)} ${canonical(r.value)}`;
      byContent.set(key, (byContent.get(key) ?? 0) + 1);
      total++;
    },
    () => {},
  );
  if (result.deadLetters.length > 0) throw new Error(`the good input has ${result.deadLetters.length} dead letters`);
  return { outputs, total };
}

/**
 * The good events in the order they became readable on their topics (the suite's own
 * read_committed reader saw them), file order among those that came together: the
 * order a consumer without the event-time merge would have taken them in.
 */
function arrivalOrder(good: readonly OfflineEvent[], reader: Reader): OfflineEvent[] {
  const at = (e: OfflineEvent) => reader.arrivalOf(e.topic, eventIdOf(e.value)) ?? Number.POSITIVE_INFINITY;
  return good
    .map((e, i) => ({ e, i, at: at(e) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((x) => x.e);
}

/** An output whose event id the oracle has, with other content. */
interface Change {
  topic: string;
  id: string;
  expected: string;
  actual: string;
  /** The top-level fields that differ. */
  fields: string[];
  /** Whether the replay of the input in its arrival order has the actual content. */
  byArrival: boolean;
}

interface Comparison {
  /** Oracle records with no record of their content or id. */
  missing: number;
  /** Oracle event ids that came out fewer times than in the oracle. */
  lost: number;
  /** Oracle event ids that came out more times than in the oracle. */
  duplicated: number;
  /** Records with an oracle event id but other content (each also one oracle record not found). */
  changes: Change[];
  /** Records whose content and id the oracle does not have. */
  extra: number;
  byTopic: Record<string, { expected: number; actual: number }>;
  examples: string[];
}

function fieldsThatDiffer(a: string, b: string): string[] {
  const x = JSON.parse(a) as Record<string, unknown>;
  const y = JSON.parse(b) as Record<string, unknown>;
  return [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => canonical(x[k]) !== canonical(y[k]));
}

function compare(expected: Expected, reader: Reader): Comparison {
  const c: Comparison = { missing: 0, lost: 0, duplicated: 0, changes: [], extra: 0, byTopic: {}, examples: [] };
  const idOfKey = (k: string) => k.slice(0, k.indexOf(' '));
  for (const topic of COMPARED) {
    const want = new Map(expected.outputs.get(topic));
    const wantIds = new Map<string, number>();
    for (const [k, n] of want) wantIds.set(idOfKey(k), (wantIds.get(idOfKey(k)) ?? 0) + n);
    const gotIds = new Map<string, number>();
    const seen = reader.of(topic);
    c.byTopic[topic] = { expected: [...want.values()].reduce((a, b) => a + b, 0), actual: seen.length };
    const unmatched: string[] = [];
    for (const s of seen) {
      const id = eventIdOf(s.value);
      gotIds.set(id, (gotIds.get(id) ?? 0) + 1);
      const key = `${id} ${canonical(s.value)}`;
      const n = want.get(key) ?? 0;
      if (n > 0) want.set(key, n - 1);
      else unmatched.push(key);
    }
    // Oracle records not found, by id: an unmatched record of the same id is a change.
    const wantLeft = new Map<string, string[]>();
    for (const [key, n] of want)
      for (let i = 0; i < n; i++) wantLeft.set(idOfKey(key), [...(wantLeft.get(idOfKey(key)) ?? []), key]);
    for (const key of unmatched) {
      const id = idOfKey(key);
      const counterpart = wantLeft.get(id)?.shift();
      if (counterpart === undefined) {
        c.extra++;
        if (c.examples.length < 5) c.examples.push(`extra on ${topic}: ${key.slice(0, 300)}`);
        continue;
      }
      const expectedValue = counterpart.slice(counterpart.indexOf(' ') + 1);
      const actualValue = key.slice(key.indexOf(' ') + 1);
      c.changes.push({
        topic,
        id,
        expected: expectedValue,
        actual: actualValue,
        fields: fieldsThatDiffer(expectedValue, actualValue),
        byArrival: false,
      });
    }
    for (const [, keys] of wantLeft)
      for (const key of keys) {
        c.missing++;
        if (c.examples.length < 10) c.examples.push(`missing on ${topic}: ${key.slice(0, 300)}`);
      }
    for (const [id, n] of wantIds) {
      const got = gotIds.get(id) ?? 0;
      if (got < n) c.lost += n - got;
      if (got > n) c.duplicated += got - n;
    }
  }
  return c;
}

interface DeadLetterCheck {
  records: number;
  missing: number;
  duplicated: number;
  unexpected: number;
  examples: string[];
}

function checkDeadLetters(input: FaultInput, reader: Reader): DeadLetterCheck {
  const check: DeadLetterCheck = { records: 0, missing: 0, duplicated: 0, unexpected: 0, examples: [] };
  const got = new Map<string, string[]>();
  for (const topic of DLQ_TOPICS) {
    for (const s of reader.of(topic)) {
      check.records++;
      const id = s.headers[FAULT_HEADER];
      const service = s.headers['churn.service'] ?? '?';
      if (!id || !input.expectedDeadLetters.has(id)) {
        check.unexpected++;
        if (check.examples.length < 5)
          check.examples.push(
            `unexpected dead letter ${id ?? '(a good record)'} from ${service}: ${s.headers['churn.error.code']} ${s.headers['churn.error.message']}`,
          );
        continue;
      }
      const list = got.get(id) ?? [];
      list.push(service);
      got.set(id, list);
    }
  }
  for (const [id, services] of input.expectedDeadLetters) {
    const actual = got.get(id) ?? [];
    for (const service of services) {
      const n = actual.filter((s) => s === service).length;
      if (n === 0) {
        check.missing++;
        if (check.examples.length < 10) check.examples.push(`no dead letter of ${id} from ${service}`);
      }
      if (n > 1) check.duplicated += n - 1;
    }
    check.unexpected += actual.filter((s) => !services.includes(s)).length;
  }
  return check;
}

/** The free-text values of the input (reasons, comments, notes): personal data that no log may carry. */
function freeTexts(input: FaultInput): string[] {
  const texts = new Set<string>();
  const add = (value: unknown) => {
    for (const field of ['reasonText', 'comment', 'note']) {
      const text = (value as Record<string, unknown> | null)?.[field];
      if (typeof text === 'string' && text.length >= 8 && text.length < 200) texts.add(text);
    }
  };
  for (const r of input.records) {
    if (r.kind === 'good' || r.kind === 'duplicate') add(r.event.value);
    else if (r.raw) add(r.raw.value);
  }
  return [...texts];
}

/** Log lines of the scenario's service processes that carry one of `texts`. */
function leaks(logDir: string, texts: readonly string[]): { lines: number; leaked: number; examples: string[] } {
  let lines = 0;
  let leaked = 0;
  const examples: string[] = [];
  for (const file of readdirSync(logDir)) {
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      if (!line) continue;
      lines++;
      const text = texts.find((t) => line.includes(t));
      if (text) {
        leaked++;
        if (examples.length < 3) examples.push(`${file}: "${text}" in ${line.slice(0, 200)}`);
      }
    }
  }
  return { lines, leaked, examples };
}

interface ScenarioResult {
  scenario: Scenario;
  /** Whether the input was produced live, across the fault schedule. */
  live: boolean;
  /** For a live input: its production (rate, span) against the schedule. */
  production: (LiveReport & ProduceStats) | null;
  eventsIn: number;
  badRecords: number;
  duplicatesIn: number;
  outputsExpected: number;
  outputsRead: number;
  faults: number;
  faultsMidStream: number;
  /** Live input: faults injected while records were still to be produced. */
  faultsWhileProducing: number | null;
  faultKinds: Record<string, number>;
  deadLetters: number;
  deadLettersMetric: number | null;
  lost: number;
  duplicated: number;
  /** Outputs with an oracle event id but other content. */
  changed: number;
  /** Of those, the ones the replay of the input in its arrival order has: changed by arrival order. */
  changedByArrival: number;
  /** "topic: field" -> changed outputs in which it differs. */
  changedFields: Record<string, number>;
  changes: Change[];
  extra: number;
  deadLettersMissing: number;
  deadLettersDuplicated: number;
  deadLettersUnexpected: number;
  recoveryMs: { median: number | null; max: number | null; unrecovered: number };
  processingSeconds: number;
  crashRestarts: number;
  byTopic: Record<string, { expected: number; actual: number }>;
  examples: string[];
  faultLog: FaultRecord[];
  logLines: number;
  logLinesWithFreeText: number;
  failures: string[];
  passed: boolean;
}

async function runOne(
  scenario: Scenario,
  input: FaultInput,
  messages: readonly Outgoing[],
  expected: Expected,
  dir: string,
): Promise<ScenarioResult> {
  const isLive = live || LIVE_SCENARIOS.includes(scenario);
  log(`${scenario}: resetting the cluster`);
  await resetCluster(env);
  const serde = new ContractSerde({ url: env.registryUrl });
  let produceStats: ProduceStats | null = null;
  if (!isLive) {
    produceStats = await produceInput(env, messages);
    log(`${scenario}: ${input.records.length} records on the input topics`);
  }
  const reader = await new Reader(env, serde).start([...COMPARED, ...DLQ_TOPICS], isLive ? INPUT_TOPICS : []);
  const logDir = join(dir, scenario);
  mkdirSync(logDir, { recursive: true });
  const baseEnv = serviceEnv(env);
  let instances: Instance[] = [];
  const retired: Instance[] = [];
  let counter = 0;
  const addInstance = (service: string) => {
    const instance = new Instance(service, `${service}-${++counter}`, baseEnv, logDir);
    instances.push(instance);
    instance.start();
    return instance;
  };
  const expectedDead = [...input.expectedDeadLetters.values()].reduce((n, s) => n + s.length, 0);
  const want = (t: string) => [...(expected.outputs.get(t)?.values() ?? [])].reduce((a, b) => a + b, 0);
  const pace = isLive ? new LivePace(messages.length, quick ? 8000 : 12_000, quick ? 30_000 : 60_000) : null;
  const outputsDone = () =>
    (pace === null || !pace.producing) &&
    COMPARED.every((t) => reader.of(t).length >= want(t)) &&
    DLQ_TOPICS.reduce((n, t) => n + reader.of(t).length, 0) >= expectedDead;
  let finishedAt: number | null = null;
  const started = Date.now();
  for (const s of services) addInstance(s.dir);
  await Promise.all(instances.map((i) => i.waitReady()));
  log(`${scenario}: ${instances.length} services ready in ${Date.now() - started} ms`);
  const faults: FaultRecord[] = [];
  const rnd = new Random(seed * 31 + SCENARIOS.indexOf(scenario));
  const ctx: FaultContext = {
    rnd,
    reader,
    services,
    instances: () => instances,
    addInstance,
    removeInstance: (i) => {
      instances = instances.filter((x) => x !== i);
      retired.push(i);
    },
    finished: () => finishedAt !== null,
    producing: () => (pace === null ? null : pace.producing),
    faults,
    log: (line) => log(`${scenario}: ${line}`),
  };
  const steps = scheduleOf(scenario, ctx, quick);
  let production: Promise<void> = Promise.resolve();
  let productionError: string | null = null;
  if (pace !== null) {
    pace.start(Date.now(), steps.length);
    production = produceInput(
      env,
      messages,
      (now) => pace.allowed(now),
      (n) => pace.produced(n, Date.now()),
    ).then(
      (stats) => {
        produceStats = stats;
        log(`${scenario}: ${messages.length} records produced live (${JSON.stringify(pace.report())})`);
      },
      (err: unknown) => {
        productionError = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
        log(`${scenario}: producing the live input failed: ${productionError}`);
      },
    );
  }
  const progress = setInterval(() => {
    const outputs = COMPARED.reduce((n, t) => n + reader.of(t).length, 0);
    log(
      `${scenario}: ${outputs}/${expected.total} outputs, ${DLQ_TOPICS.reduce((n, t) => n + reader.of(t).length, 0)}/${expectedDead} dead letters, ${faults.length} faults`,
    );
  }, 10_000);
  const watch = setInterval(() => {
    if (finishedAt === null && outputsDone()) finishedAt = Date.now();
  }, 200);
  let injectionError: string | null = null;
  try {
    await runScenario(ctx, steps, quick, (done, of) => pace?.step(done, of, Date.now())).catch((err: unknown) => {
      injectionError = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
      log(`${scenario}: injecting a fault failed: ${injectionError}`);
    });
    pace?.scheduleDone(Date.now());
    await production;
    // Until every expected record is there (or nothing moves for long), then a quiet spell for extras.
    const deadline = Date.now() + (quick ? 240_000 : 600_000);
    while (finishedAt === null && Date.now() < deadline && Date.now() - Math.max(reader.lastAt, started) < 120_000)
      await sleep(500);
    const quietFrom = Date.now();
    while (Date.now() - quietFrom < 5000 || Date.now() - reader.lastAt < 5000) await sleep(500);
  } finally {
    clearInterval(progress);
    clearInterval(watch);
  }
  const processingSeconds = ((finishedAt ?? Date.now()) - started) / 1000;
  const exited =
    [...instances, ...retired].some((i) => i.exits > 0) || faults.some((f) => !f.kind.startsWith('SIGSTOP'));
  let metric: number | null = 0;
  for (const i of instances) {
    const n = await i.deadLetters();
    metric = n === null || metric === null ? null : metric + n;
  }
  for (const i of retired) metric = metric === null ? null : metric + i.deadLettersCounted;
  await Promise.all(instances.map((i) => i.stop()));
  await reader.stop();

  const comparison = compare(expected, reader);
  if (isLive && comparison.changes.length > 0) {
    // Which changes a consumer taking the input as it arrived, without the merge, makes.
    const byArrival = await oracle(
      arrivalOrder(input.good, reader),
      // Beside the logs, not among them: the log scan looks for the input's free text.
      join(dir, `${scenario}-arrival-order.jsonl`),
    );
    for (const change of comparison.changes) {
      const outputs = byArrival.outputs.get(change.topic);
      const key = `${change.id} ${change.actual}`;
      const n = outputs?.get(key) ?? 0;
      if (n > 0) {
        outputs?.set(key, n - 1);
        change.byArrival = true;
      }
    }
  }
  const changedBy = (arrival: boolean) => comparison.changes.filter((ch) => ch.byArrival === arrival);
  const dead = checkDeadLetters(input, reader);
  const recoveries = faults
    .map((f) => f.recoveryMs)
    .filter((r): r is number => r !== null)
    .sort((a, b) => a - b);
  const faultKinds: Record<string, number> = {};
  for (const f of faults) {
    const kind = f.kind.startsWith('SIGSTOP') ? 'SIGSTOP' : f.kind;
    faultKinds[kind] = (faultKinds[kind] ?? 0) + 1;
  }
  // The metric is per process: one that exits (killed, leaving, restarting after a
  // broker failure) takes its count with it, so it must match exactly only where none did.
  const result: ScenarioResult = {
    scenario,
    live: isLive,
    production: pace !== null && produceStats !== null ? { ...pace.report(), ...(produceStats as ProduceStats) } : null,
    eventsIn: input.good.length,
    badRecords: input.expectedDeadLetters.size,
    duplicatesIn: input.counts.duplicate ?? 0,
    outputsExpected: expected.total,
    outputsRead: COMPARED.reduce((n, t) => n + reader.of(t).length, 0),
    faults: faults.length,
    faultsMidStream: faults.filter((f) => f.midStream).length,
    faultsWhileProducing: isLive ? faults.filter((f) => f.producing === true).length : null,
    faultKinds,
    deadLetters: dead.records,
    deadLettersMetric: metric,
    lost: comparison.lost,
    duplicated: comparison.duplicated,
    changed: comparison.changes.length,
    changedByArrival: changedBy(true).length,
    changedFields: fieldCounts(comparison.changes),
    changes: comparison.changes.slice(0, 20),
    extra: comparison.extra,
    deadLettersMissing: dead.missing,
    deadLettersDuplicated: dead.duplicated,
    deadLettersUnexpected: dead.unexpected,
    recoveryMs: {
      median: recoveries.length ? (recoveries[Math.floor(recoveries.length / 2)] as number) : null,
      max: recoveries.length ? (recoveries.at(-1) as number) : null,
      unrecovered: faults.length - recoveries.length,
    },
    processingSeconds,
    crashRestarts: [...instances, ...retired].reduce((n, i) => n + i.restarts, 0),
    byTopic: comparison.byTopic,
    examples: [...comparison.examples, ...dead.examples],
    faultLog: faults,
    logLines: 0,
    logLinesWithFreeText: 0,
    failures: [],
    passed: false,
  };
  const failures: string[] = [];
  if (comparison.missing > 0) failures.push(`${comparison.missing} oracle outputs missing`);
  if (comparison.extra > 0) failures.push(`${comparison.extra} outputs the oracle does not have`);
  if (comparison.lost > 0) failures.push(`${comparison.lost} oracle event ids lost`);
  if (comparison.duplicated > 0) failures.push(`${comparison.duplicated} event ids duplicated`);
  const unexplained = changedBy(false);
  if (unexplained.length > 0)
    failures.push(
      `${unexplained.length} outputs changed in content, not by arrival order: ${unexplained
        .slice(0, 3)
        .map((ch) => `${ch.topic} ${ch.id} (${ch.fields.join(', ')})`)
        .join('; ')}`,
    );
  if (dead.missing > 0) failures.push(`${dead.missing} dead letters missing`);
  if (dead.duplicated > 0) failures.push(`${dead.duplicated} dead letters twice`);
  if (dead.unexpected > 0) failures.push(`${dead.unexpected} unexpected dead letters`);
  if (!exited && metric !== dead.records)
    failures.push(`churn_dead_letters_total ${metric} but ${dead.records} on the dead-letter topics`);
  if (result.recoveryMs.unrecovered > 0) failures.push(`${result.recoveryMs.unrecovered} faults without recovery`);
  if (finishedAt === null) failures.push('the outputs never completed');
  if (injectionError !== null) failures.push(`injecting a fault failed: ${injectionError}`);
  if (productionError !== null) failures.push(`producing the live input failed: ${productionError}`);
  const privacy = leaks(logDir, freeTexts(input));
  result.logLines = privacy.lines;
  result.logLinesWithFreeText = privacy.leaked;
  if (privacy.leaked > 0) failures.push(`${privacy.leaked} log lines carry free text: ${privacy.examples.join('; ')}`);
  result.failures = failures;
  result.passed = failures.length === 0;
  log(
    `${scenario}: ${result.passed ? 'PASSED' : 'FAILED'}: lost ${result.lost}, duplicated ${result.duplicated}, changed ${result.changed} (by arrival order ${result.changedByArrival}), extra ${result.extra}, dead letters ${dead.records} (metric ${metric}), missing ${dead.missing}, unexpected ${dead.unexpected}`,
  );
  for (const e of [...failures, ...result.examples]) log(`  ${e}`);
  return result;
}

function fieldCounts(changes: readonly Change[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const ch of changes)
    for (const f of ch.fields) counts[`${ch.topic}: ${f}`] = (counts[`${ch.topic}: ${f}`] ?? 0) + 1;
  return counts;
}

function table(results: ScenarioResult[]): string {
  const ms = (n: number | null) => (n === null ? '-' : `${(n / 1000).toFixed(1)} s`);
  const share = (n: number, of: number) => (of === 0 ? '-' : `${Math.round((n / of) * 100)} %`);
  const lines = [
    '| scenario | input | events in | bad / duplicates in | faults (mid-stream) | mid-stream share | dead letters (metric) | outputs | lost | duplicated | changed by arrival order | recovery median / max | result |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const kinds = Object.entries(r.faultKinds)
      .map(([k, n]) => `${n}× ${k}`)
      .join(', ');
    const input =
      r.production === null ? 'backlog' : `live, ${r.production.recordsPerSecond}/s over ${ms(r.production.spanMs)}`;
    const midStream =
      r.faultsWhileProducing === null
        ? share(r.faultsMidStream, r.faults)
        : `${share(r.faultsMidStream, r.faults)} (${share(r.faultsWhileProducing, r.faults)} while producing)`;
    const result = r.passed
      ? r.changedByArrival > 0
        ? `pass, ${r.changedByArrival} changed by arrival order`
        : 'pass'
      : 'FAIL';
    lines.push(
      `| ${r.scenario} | ${input} | ${r.eventsIn} | ${r.badRecords} / ${r.duplicatesIn} | ${r.faults} (${r.faultsMidStream})${kinds ? `: ${kinds}` : ''} | ${midStream} | ${r.deadLetters} (${r.deadLettersMetric ?? '-'}) | ${r.outputsRead} of ${r.outputsExpected} | ${r.lost} | ${r.duplicated} | ${r.changedByArrival} of ${r.changed} changed | ${ms(r.recoveryMs.median)} / ${ms(r.recoveryMs.max)} | ${result} |`,
    );
  }
  const changed = results.filter((r) => r.changed > 0);
  if (changed.length > 0) {
    lines.push(
      '',
      'Changed: outputs with the event id of an oracle output but other content. Changed by arrival order: those',
      'that the replay of the input in the order it became readable (no event-time merge) also gives; the others fail.',
    );
    for (const r of changed)
      lines.push(
        `- ${r.scenario}: ${r.changedByArrival} of ${r.changed}; fields: ${Object.entries(r.changedFields)
          .map(([f, n]) => `${f} ×${n}`)
          .join(', ')}`,
      );
  }
  return lines.join('\n');
}

async function ensureInfra(): Promise<void> {
  const probe = async () => {
    try {
      const res = await fetch(`${env.registryUrl}/subjects`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    } catch {
      return false;
    }
  };
  if (!(await probe())) {
    log('no registry answers; starting the local infra (npm run infra:up)');
    await infra('up');
  }
}

async function main(): Promise<void> {
  const began = Date.now();
  await ensureInfra();
  const dir = join(
    process.env.CHURN_FAULTS_DIR ?? join(tmpdir(), 'churn-faults'),
    new Date().toISOString().replace(/[:.]/g, '-'),
  );
  mkdirSync(dir, { recursive: true });
  log(`logs in ${dir}`);
  const good = goodEvents(customers, seed);
  const input = mixInput(good, Number(args['bad-share']), seed, shape);
  log(
    `input: ${good.length} good events, ${input.records.length - good.length} bad records and duplicates (${JSON.stringify(input.counts)})`,
  );
  const expected = await oracle(input.good, join(dir, 'good.jsonl'));
  log(`oracle: ${expected.total} outputs from the replay of the good events`);
  const messages = await encodeInput(input, new ContractSerde({ url: env.registryUrl }));
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runOne(scenario, input, messages, expected, dir));
  const summary = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    shape,
    live,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version },
    customers,
    seed,
    badShare: Number(args['bad-share']),
    wallSeconds: Math.round((Date.now() - began) / 1000),
    results,
  };
  const outDir = resolve(repoRoot, 'test/faults/results');
  mkdirSync(outDir, { recursive: true });
  const file = join(
    outDir,
    `${summary.date.slice(0, 10)}${shape === 'engine' ? '' : `-${shape}`}${live ? '-live' : ''}-${summary.mode}.json`,
  );
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  if (process.env.CHURN_FAULTS_REPORT)
    writeFileSync(process.env.CHURN_FAULTS_REPORT, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`Shape: ${shape} (${services.map((s) => s.service).join(', ')})\n`);
  console.log(table(results));
  console.log(
    `\n${results.filter((r) => r.passed).length} of ${results.length} scenarios passed in ${summary.wallSeconds} s; results in ${file}`,
  );
  // Client libraries may keep sockets open for a while: the verdict is in, exit now.
  process.exit(results.every((r) => r.passed) ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
