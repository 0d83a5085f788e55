/**
 * The fault suite: drives a generated input, with bad records and duplicates mixed in,
 * through the services as separate processes against the real broker and registry,
 * injects faults, and compares what came out (read_committed) with the oracle, the
 * in-process replay of the good input: by event id and content, zero missing, zero
 * extra. Every bad record must be in its dead-letter topic, once per service that reads
 * it, and counted in churn_dead_letters_total.
 *
 *   npm run test:faults [-- --quick] [--scenario kill,broker] [--customers N] [--seed S]
 *
 * Uses KAFKA_BROKERS and SCHEMA_REGISTRY_URL of the local infra (npm run infra:up), which
 * it starts itself when nothing answers; the broker and registry faults stop and start
 * them through infra/local. Writes test/faults/results/<date>-<full|quick>.json and
 * prints a Markdown table. Exits 1 when any scenario lost, duplicated or changed an
 * output or a dead letter.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Random, replay } from '@churn/cli';
import { deadLetterTopicOf } from '@churn/contracts';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, type OutputRecord, readJsonFile } from '@churn/runtime';
import { ContractSerde } from '@churn/serde';
import { type ClusterEnv, infra, produceInput, Reader, resetCluster } from './cluster.ts';
import { FAULT_HEADER, type FaultInput, goodEvents, INPUT_TOPICS, mixInput } from './input.ts';
import { Instance, SERVICES, serviceEnv } from './processes.ts';
import { type FaultRecord, runScenario, SCENARIOS, type Scenario } from './scenarios.ts';

const COMPARED = ['churn.customer-value.v1', 'churn.decisions.v1', 'contact-center.tasks.v1', 'churn.alerts.v1'];
const DLQ_TOPICS = INPUT_TOPICS.map(deadLetterTopicOf);
const repoRoot = resolve(import.meta.dirname, '../..');
const log = (line: string) => process.stderr.write(`faults: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    customers: { type: 'string' },
    seed: { type: 'string', default: '11' },
    'bad-share': { type: 'string', default: '0.1' },
  },
});
const quick = args.quick === true;
const scenarios = (args.scenario?.split(',') ?? (quick ? ['bad-input', 'kill', 'soak'] : [...SCENARIOS])) as Scenario[];
for (const s of scenarios)
  if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
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

async function oracle(input: FaultInput, dir: string): Promise<Expected> {
  const file = join(dir, 'good.jsonl');
  writeFileSync(file, `${input.good.map((e) => JSON.stringify(e)).join('\n')}\n`);
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

interface Comparison {
  /** Oracle records with no record of their content. */
  missing: number;
  /** Oracle event ids that came out fewer times than in the oracle. */
  lost: number;
  /** Oracle event ids that came out more times than in the oracle. */
  duplicated: number;
  /** Records with an oracle event id but other content. */
  changed: number;
  /** Records whose content the oracle does not have. */
  extra: number;
  byTopic: Record<string, { expected: number; actual: number }>;
  examples: string[];
}

function compare(expected: Expected, reader: Reader): Comparison {
  const c: Comparison = { missing: 0, lost: 0, duplicated: 0, changed: 0, extra: 0, byTopic: {}, examples: [] };
  const idOfKey = (k: string) => k.slice(0, k.indexOf(' '));
  for (const topic of COMPARED) {
    const want = new Map(expected.outputs.get(topic));
    const wantIds = new Map<string, number>();
    for (const [k, n] of want) wantIds.set(idOfKey(k), (wantIds.get(idOfKey(k)) ?? 0) + n);
    const gotIds = new Map<string, number>();
    const seen = reader.of(topic);
    c.byTopic[topic] = { expected: [...want.values()].reduce((a, b) => a + b, 0), actual: seen.length };
    for (const s of seen) {
      const id = eventIdOf(s.value);
      gotIds.set(id, (gotIds.get(id) ?? 0) + 1);
      const key = `${id} ${canonical(s.value)}`;
      const n = want.get(key) ?? 0;
      if (n > 0) want.set(key, n - 1);
      else {
        c.extra++;
        if (wantIds.has(id) && (gotIds.get(id) ?? 0) <= (wantIds.get(id) ?? 0)) c.changed++;
        if (c.examples.length < 5) c.examples.push(`extra on ${topic}: ${key.slice(0, 300)}`);
      }
    }
    for (const [key, n] of want) {
      if (n === 0) continue;
      c.missing += n;
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
  eventsIn: number;
  badRecords: number;
  duplicatesIn: number;
  outputsExpected: number;
  outputsRead: number;
  faults: number;
  faultsMidStream: number;
  faultKinds: Record<string, number>;
  deadLetters: number;
  deadLettersMetric: number | null;
  lost: number;
  duplicated: number;
  changed: number;
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

async function runOne(scenario: Scenario, input: FaultInput, expected: Expected, dir: string): Promise<ScenarioResult> {
  log(`${scenario}: resetting the cluster`);
  await resetCluster(env);
  const serde = new ContractSerde({ url: env.registryUrl });
  await produceInput(env, input, serde);
  log(`${scenario}: ${input.records.length} records on the input topics`);
  const reader = await new Reader(env, serde).start([...COMPARED, ...DLQ_TOPICS]);
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
  const outputsDone = () =>
    COMPARED.every((t) => reader.of(t).length >= want(t)) &&
    DLQ_TOPICS.reduce((n, t) => n + reader.of(t).length, 0) >= expectedDead;
  let finishedAt: number | null = null;
  const started = Date.now();
  for (const s of SERVICES) addInstance(s.dir);
  await Promise.all(instances.map((i) => i.waitReady()));
  log(`${scenario}: ${instances.length} services ready in ${Date.now() - started} ms`);
  const faults: FaultRecord[] = [];
  const rnd = new Random(seed * 31 + SCENARIOS.indexOf(scenario));
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
    await runScenario(
      scenario,
      {
        rnd,
        reader,
        instances: () => instances,
        addInstance,
        removeInstance: (i) => {
          instances = instances.filter((x) => x !== i);
          retired.push(i);
        },
        finished: () => finishedAt !== null,
        faults,
        log: (line) => log(`${scenario}: ${line}`),
      },
      quick,
    ).catch((err: unknown) => {
      injectionError = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
      log(`${scenario}: injecting a fault failed: ${injectionError}`);
    });
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
    eventsIn: input.good.length,
    badRecords: input.expectedDeadLetters.size,
    duplicatesIn: input.counts.duplicate ?? 0,
    outputsExpected: expected.total,
    outputsRead: COMPARED.reduce((n, t) => n + reader.of(t).length, 0),
    faults: faults.length,
    faultsMidStream: faults.filter((f) => f.midStream).length,
    faultKinds,
    deadLetters: dead.records,
    deadLettersMetric: metric,
    lost: comparison.lost,
    duplicated: comparison.duplicated,
    changed: comparison.changed,
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
  if (dead.missing > 0) failures.push(`${dead.missing} dead letters missing`);
  if (dead.duplicated > 0) failures.push(`${dead.duplicated} dead letters twice`);
  if (dead.unexpected > 0) failures.push(`${dead.unexpected} unexpected dead letters`);
  if (!exited && metric !== dead.records)
    failures.push(`churn_dead_letters_total ${metric} but ${dead.records} on the dead-letter topics`);
  if (result.recoveryMs.unrecovered > 0) failures.push(`${result.recoveryMs.unrecovered} faults without recovery`);
  if (finishedAt === null) failures.push('the outputs never completed');
  if (injectionError !== null) failures.push(`injecting a fault failed: ${injectionError}`);
  const privacy = leaks(logDir, freeTexts(input));
  result.logLines = privacy.lines;
  result.logLinesWithFreeText = privacy.leaked;
  if (privacy.leaked > 0) failures.push(`${privacy.leaked} log lines carry free text: ${privacy.examples.join('; ')}`);
  result.failures = failures;
  result.passed = failures.length === 0;
  log(
    `${scenario}: ${result.passed ? 'PASSED' : 'FAILED'}: lost ${result.lost}, duplicated ${result.duplicated}, changed ${result.changed}, extra ${result.extra}, dead letters ${dead.records} (metric ${metric}), missing ${dead.missing}, unexpected ${dead.unexpected}`,
  );
  for (const e of [...failures, ...result.examples]) log(`  ${e}`);
  return result;
}

function table(results: ScenarioResult[]): string {
  const ms = (n: number | null) => (n === null ? '-' : `${(n / 1000).toFixed(1)} s`);
  const lines = [
    '| scenario | events in | bad / duplicates in | faults (mid-stream) | dead letters (metric) | outputs | lost | duplicated | recovery median / max | result |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const kinds = Object.entries(r.faultKinds)
      .map(([k, n]) => `${n}× ${k}`)
      .join(', ');
    lines.push(
      `| ${r.scenario} | ${r.eventsIn} | ${r.badRecords} / ${r.duplicatesIn} | ${r.faults} (${r.faultsMidStream})${kinds ? `: ${kinds}` : ''} | ${r.deadLetters} (${r.deadLettersMetric ?? '-'}) | ${r.outputsRead} of ${r.outputsExpected} | ${r.lost} | ${r.duplicated} | ${ms(r.recoveryMs.median)} / ${ms(r.recoveryMs.max)} | ${r.passed ? 'pass' : 'FAIL'} |`,
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
  const input = mixInput(good, Number(args['bad-share']), seed);
  log(
    `input: ${good.length} good events, ${input.records.length - good.length} bad records and duplicates (${JSON.stringify(input.counts)})`,
  );
  const expected = await oracle(input, dir);
  log(`oracle: ${expected.total} outputs from the replay of the good events`);
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runOne(scenario, input, expected, dir));
  const summary = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg(), node: process.version },
    customers,
    seed,
    badShare: Number(args['bad-share']),
    wallSeconds: Math.round((Date.now() - began) / 1000),
    results,
  };
  const outDir = resolve(repoRoot, 'test/faults/results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${summary.date.slice(0, 10)}-${summary.mode}.json`);
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  if (process.env.CHURN_FAULTS_REPORT)
    writeFileSync(process.env.CHURN_FAULTS_REPORT, `${JSON.stringify(summary, null, 2)}\n`);
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
