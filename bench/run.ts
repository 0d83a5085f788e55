/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --profile] [-- --wipe]`: the
 * performance figures of the pipeline against a real broker and registry, side by side
 * with raw Kafka passthrough and a Kafka Streams peer, written to
 * bench/results/<date>-<name>.json with the machine they ran on, and a summary table on
 * stdout.
 *
 * - Broker and registry: KAFKA_BROKERS and SCHEMA_REGISTRY_URL when both are set (the
 *   harness deletes every topic and consumer group there, so it asks for --wipe);
 *   otherwise it starts its own local Kafka and registry with infra/local/up.sh (data in
 *   .churn/bench/infra, ports 29092/29093/29094/28081 unless CHURN_* say otherwise) and
 *   stops them at the end.
 * - Every figure runs in its own process (bench/lib/worker.ts); warm-up, then
 *   repetitions; median, min and max.
 * - peer: the Kafka Streams application in bench/kstreams (Java 17 and Maven; built on
 *   first use, again only when its pom.xml or sources are newer than the jar) over the
 *   same backlog, exactly_once_v2, one stream thread, a fresh JVM and application.id per
 *   repetition: peerKafkaStreamsStateful (RocksDB store with changelog),
 *   peerKafkaStreamsPassthrough and, unless --quick, peerKafkaStreamsInMemory.
 * - --quick: small sizes and few repetitions, for CI; exits non-zero only when the
 *   harness itself fails, never because of a figure.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, hostname, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { commandLine } from '@churn/runtime';
import { benchKafka, INPUT_TOPICS, machineNow, packageVersion, progress, ROOT } from './lib/common.ts';
import { buildPeer } from './lib/peer.ts';
import { summarizeProfile } from './lib/profile.ts';
import { markdownTable, summaryRows } from './lib/summary.ts';
import type { FigureName } from './lib/worker.ts';
import { fillBacklog } from './lib/workload.ts';

/** The figures --only can name (all of them by default). */
const ALL = ['passthrough', 'pipeline', 'peer', 'latency', 'serde', 'domain', 'state', 'scale'] as const;

const USAGE = `npm run bench [-- options]: the pipeline's performance figures against a real broker and
registry, beside raw Kafka passthrough and a Kafka Streams peer, written to
bench/results/<date>-<name>.json with a summary table on stdout.

Options:
  --quick                 small sizes and one repetition (what CI runs)
  --only A,B              some figures: ${ALL.join(', ')}
  --reps N                repetitions after the warm-up (default 5; 1 with --quick)
  --name NAME             the results file's name (default pipeline; quick with --quick)
  --profile               CPU profiles of the pipeline, state and domain figures
  --wipe                  use the broker of KAFKA_BROKERS, deleting every topic and group on it
  --customers N           customers of the generated backlog (default 2000)
  --state-customers N     customers in the state figure's changelog (default 1000000)
  --merge-idle-ms MS      MERGE_IDLE_MS of the pipeline under test (default 2000)
  --rate N                live events/s of the half-peak latency figures (default half the measured peak)
  --cancellation-share X  share of cancellations in the latency figures' live traffic (default 0.1)
  --txn-variants          also the exactly-once passthrough's other ways of cutting transactions
  --summarize FILE...     print one summary table of results files and exit
  --help                  this text
`;

const { values: opts, positionals } = commandLine('bench', USAGE, () =>
  parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      reps: { type: 'string' },
      profile: { type: 'boolean', default: false },
      wipe: { type: 'boolean', default: false },
      name: { type: 'string' },
      customers: { type: 'string' },
      'state-customers': { type: 'string' },
      'merge-idle-ms': { type: 'string' },
      rate: { type: 'string' },
      'cancellation-share': { type: 'string' },
      /** Also the exactly-once passthrough's other ways of cutting transactions (TXN_VARIANTS), both clients. */
      'txn-variants': { type: 'boolean', default: false },
      /** Prints the summary table of results files (later files win for a figure) and exits. */
      summarize: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  }),
);

const QUICK = opts.quick === true;
const REPS = opts.reps ? Number(opts.reps) : QUICK ? 1 : 5;
const WARMUPS = QUICK ? 0 : 1;
const CUSTOMERS = opts.customers ? Number(opts.customers) : QUICK ? 150 : 2_000;
const MONTHS = 14;
const STATE_CUSTOMERS = opts['state-customers'] ? Number(opts['state-customers']) : QUICK ? 20_000 : 1_000_000;
type Section = (typeof ALL)[number];
const only = new Set<Section>((opts.only?.split(',') as Section[] | undefined) ?? ALL);
for (const s of only) {
  if (!ALL.includes(s)) {
    process.stderr.write(`bench: --only: unknown figure ${s}; one of ${ALL.join(', ')}\n`);
    process.exit(2);
  }
}
const NAME = opts.name ?? (QUICK ? 'quick' : 'pipeline');
/** The runner's default; what it does to latency: docs/architecture.md#event-time-and-the-clock. */
const MERGE_IDLE_MS = opts['merge-idle-ms'] ? Number(opts['merge-idle-ms']) : 2_000;
const PROFILE_DIR = join(ROOT, '.churn', 'bench', 'profiles');

// ------------------------------------------------------------------ infra

interface Infra {
  brokers: string;
  registryUrl: string;
  started: boolean;
  env: NodeJS.ProcessEnv;
}

function infraEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CHURN_INFRA_DIR: process.env.CHURN_INFRA_DIR ?? join(ROOT, '.churn', 'bench', 'infra'),
    CHURN_KAFKA_PORT: process.env.CHURN_KAFKA_PORT ?? '29092',
    CHURN_KAFKA_CONTROLLER_PORT: process.env.CHURN_KAFKA_CONTROLLER_PORT ?? '29093',
    CHURN_KAFKA_SASL_PORT: process.env.CHURN_KAFKA_SASL_PORT ?? '29094',
    CHURN_REGISTRY_PORT: process.env.CHURN_REGISTRY_PORT ?? '28081',
  };
}

async function bringUpInfra(): Promise<Infra> {
  if (process.env.KAFKA_BROKERS && process.env.SCHEMA_REGISTRY_URL) {
    if (!opts.wipe && process.env.BENCH_WIPE !== '1') {
      throw new Error(
        `KAFKA_BROKERS is set (${process.env.KAFKA_BROKERS}): the benchmark deletes every topic and consumer group on that broker. Pass --wipe (or BENCH_WIPE=1) if that is fine, or unset KAFKA_BROKERS and SCHEMA_REGISTRY_URL to let it start its own.`,
      );
    }
    progress(`using the broker at ${process.env.KAFKA_BROKERS} and the registry at ${process.env.SCHEMA_REGISTRY_URL}`);
    return {
      brokers: process.env.KAFKA_BROKERS,
      registryUrl: process.env.SCHEMA_REGISTRY_URL,
      started: false,
      env: process.env,
    };
  }
  const env = infraEnv();
  progress(`starting a local Kafka and registry for the benchmark (infra/local/up.sh, data in ${env.CHURN_INFRA_DIR})`);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'infra/local/up.sh')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`infra/local/up.sh exited ${code}`))));
  });
  const brokers = /KAFKA_BROKERS=(\S+)/.exec(out)?.[1];
  const registryUrl = /SCHEMA_REGISTRY_URL=(\S+)/.exec(out)?.[1];
  if (!brokers || !registryUrl) throw new Error(`infra/local/up.sh did not print the endpoints:\n${out}`);
  return { brokers, registryUrl, started: true, env };
}

function stopInfra(infra: Infra): void {
  if (!infra.started) return;
  progress('stopping the benchmark broker and registry');
  try {
    execFileSync('bash', [join(ROOT, 'infra/local/down.sh')], {
      env: infra.env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch {
    progress('infra/local/down.sh failed; stop them with the same CHURN_* variables');
  }
}

function kafkaVersion(): string {
  const cache = process.env.CHURN_CACHE_DIR ?? join(process.env.HOME ?? '', '.cache', 'churn-pipeline');
  const version = process.env.CHURN_KAFKA_VERSION ?? '4.4.0';
  const libs = join(cache, `kafka-${version}`, 'libs');
  if (!existsSync(libs)) return `unknown (not the local infra's)`;
  const jar = readdirSync(libs).find((f) => /^kafka_2\.13-.*\.jar$/.test(f) && !f.includes('test'));
  return jar ? jar.replace(/^kafka_2\.13-(.*)\.jar$/, '$1') : version;
}

async function registryVersion(url: string): Promise<string> {
  try {
    const base = url.replace(/\/apis\/ccompat\/v\d+\/?$/, '');
    const res = await fetch(`${base}/apis/registry/v3/system/info`, { signal: AbortSignal.timeout(3000) });
    const info = (await res.json()) as { name?: string; version?: string };
    return `${info.name ?? 'registry'} ${info.version ?? ''}`.trim();
  } catch {
    return 'unknown';
  }
}

// ------------------------------------------------------------------ workers

const children = new Set<ChildProcess>();

function figure<T>(name: FigureName, args: unknown, execArgv: string[] = []): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = fork(join(ROOT, 'bench/lib/worker.ts'), [], {
      execArgv: ['--conditions=source', ...execArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      cwd: ROOT,
    });
    children.add(child);
    // Settled when the process has exited, so that a CPU profile is written before the harness moves on.
    let answer: { result?: T; error?: string } | null = null;
    child.on('message', (m: { result?: T; error?: string }) => {
      answer = m;
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      const a = answer as { result?: T; error?: string } | null;
      if (a?.error !== undefined) reject(new Error(a.error));
      else if (a) resolve(a.result as T);
      else reject(new Error(`${name} worker exited (${signal ?? code}) without a result`));
    });
    child.send({ figure: name, args });
  });
}

/** Live events per second of the low-rate latency figures. */
const LOW_RATE = 100;

/**
 * The pipeline's median throughput for `figure`: from this run, or else from the newest
 * full results file that has it (so that `--only latency` still runs at half the peak).
 */
function peakOf(results: Record<string, unknown>, figure: string): { peak?: number; source: string } {
  if (!figure) return { source: '' };
  const here = (results[figure] as { eventsPerSecond?: { median: number } } | undefined)?.eventsPerSecond?.median;
  if (here) return { peak: here, source: 'this run' };
  const dir = join(ROOT, 'bench', 'results');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => /^\d{4}-\d{2}-\d{2}-.*\.json$/.test(f) && !f.endsWith('-quick.json'))
        .sort()
        .reverse()
    : [];
  for (const f of files) {
    try {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { results?: Record<string, unknown> };
      const peak = (doc.results?.[figure] as { eventsPerSecond?: { median: number } } | undefined)?.eventsPerSecond
        ?.median;
      if (peak) return { peak, source: `bench/results/${f}` };
    } catch {
      // not a results file
    }
  }
  return { source: '' };
}

/** CPU profiles written by figures run with --profile, by figure. */
const profiles = new Map<string, string>();

function profileArgs(tag: string): string[] {
  if (!opts.profile) return [];
  mkdirSync(PROFILE_DIR, { recursive: true });
  const name = `${tag}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
  profiles.set(tag, join(PROFILE_DIR, name));
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}`];
}

/** The domain core: packages/domain/bench/domain.bench.ts in its own process, its results read back. */
async function domainFigure(): Promise<unknown> {
  const dir = join(ROOT, '.churn', 'bench');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `domain-${process.pid}.json`);
  const args = ['--conditions=source', ...profileArgs('domain'), join(ROOT, 'packages/domain/bench/domain.bench.ts')];
  args.push('--reps', String(Math.max(REPS, QUICK ? 2 : 5)), '--out', out);
  if (QUICK) args.push('--customers', '1000');
  progress('domain core: packages/domain/bench/domain.bench.ts');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', process.stderr, 'inherit'] });
    children.add(child);
    child.on('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve();
      else reject(new Error(`domain.bench.ts exited ${code}`));
    });
  });
  const result = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  rmSync(out, { force: true });
  return result;
}

// ------------------------------------------------------------------ main

async function main(): Promise<number> {
  process.env.BENCH_STARTED_AT ??= String(Date.now());
  const infra = await bringUpInfra();
  process.env.KAFKA_BROKERS = infra.brokers;
  process.env.SCHEMA_REGISTRY_URL = infra.registryUrl;
  const stopAll = () => {
    for (const c of children) c.kill('SIGTERM');
    stopInfra(infra);
  };
  process.once('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  const results: Record<string, unknown> = {};
  const failures: string[] = [];
  const machine = {
    host: hostname(),
    os: `${platform()} ${release()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryGB: Math.round(totalmem() / 1e9),
    freeMemoryGBAtStart: Math.round(freemem() / 1e9),
    loadavgAtStart: loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    kafka: kafkaVersion(),
    registry: await registryVersion(infra.registryUrl),
    kafkajs: packageVersion('kafkajs'),
    platformaticKafka: packageVersion('@platformatic/kafka'),
    avsc: packageVersion('avsc'),
    schemaRegistryClient: packageVersion('@kafkajs/confluent-schema-registry'),
    brokerStartedByHarness: infra.started,
  };
  const settings = {
    quick: QUICK,
    warmups: WARMUPS,
    reps: REPS,
    customers: CUSTOMERS,
    months: MONTHS,
    partitions: 3,
    stateCustomers: STATE_CUSTOMERS,
  };
  const attempt = async (key: string, work: () => Promise<unknown>) => {
    const before = machineNow();
    try {
      const value = await work();
      results[key] = { ...(value as object), loadavgBefore: before.loadavg, loadavgAfter: machineNow().loadavg };
    } catch (err) {
      failures.push(`${key}: ${(err as Error).message}`);
      progress(`FAILED ${key}: ${(err as Error).message}`);
      results[key] = { error: (err as Error).message };
    }
  };

  try {
    const needsBacklog = only.has('passthrough') || only.has('pipeline') || only.has('peer');
    if (needsBacklog) {
      const kafka = benchKafka('churn-bench-backlog');
      const backlog = await fillBacklog(kafka, { customers: CUSTOMERS, months: MONTHS, seed: 42 });
      results.backlog = { ...backlog, topics: INPUT_TOPICS };
      progress(`backlog ready: ${backlog.events} events, ${(backlog.bytes / 1e6).toFixed(1)} MB`);
    }
    const rep = { warmups: WARMUPS, reps: REPS };
    if (only.has('passthrough')) {
      const all = [[...INPUT_TOPICS]];
      await attempt('passthroughKafkajs', () =>
        figure('passthrough', { client: 'kafkajs', guarantee: 'at_least_once', groups: all, ...rep }),
      );
      await attempt('passthroughKafkajsTransactional', () =>
        figure('passthrough', { client: 'kafkajs', guarantee: 'exactly_once', groups: all, ...rep }),
      );
      await attempt('passthroughPlatformatic', () =>
        figure('passthrough', { client: 'platformatic', guarantee: 'at_least_once', groups: all, ...rep }),
      );
      await attempt('passthroughPlatformaticTransactional', () =>
        figure('passthrough', { client: 'platformatic', guarantee: 'exactly_once', groups: all, verify: true, ...rep }),
      );
      if (opts['txn-variants']) {
        const { TXN_VARIANTS } = await import('./lib/passthrough.ts');
        for (const [key, v] of Object.entries(TXN_VARIANTS))
          await attempt(key, () =>
            figure('passthrough', { ...v, guarantee: 'exactly_once', groups: all, verify: true, ...rep }),
          );
      }
      const { allTopologies } = await import('@churn/cli');
      const { policy } = await import('./lib/common.ts');
      const fanOut = allTopologies(policy(), 'services')
        .map((t) => t.inputs.filter((i) => (INPUT_TOPICS as readonly string[]).includes(i)))
        .filter((inputs) => inputs.length > 0);
      await attempt('passthroughKafkajsFanOut', () =>
        figure('passthrough', { client: 'kafkajs', guarantee: 'exactly_once', groups: fanOut, ...rep }),
      );
    }
    if (only.has('pipeline')) {
      await attempt('pipelineExactlyOnce', () =>
        figure(
          'pipeline',
          { guarantee: 'exactly_once', mergeIdleMs: MERGE_IDLE_MS, ...rep },
          profileArgs('pipeline-exactly-once'),
        ),
      );
      await attempt('pipelineAtLeastOnce', () =>
        figure('pipeline', { guarantee: 'at_least_once', mergeIdleMs: MERGE_IDLE_MS, ...rep }),
      );
      // The per-processor shape (one service, group and state per processor) beside the engine.
      await attempt('pipelineServicesExactlyOnce', () =>
        figure('pipeline', { guarantee: 'exactly_once', shape: 'services', mergeIdleMs: MERGE_IDLE_MS, ...rep }),
      );
      await attempt('pipelineServicesAtLeastOnce', () =>
        figure('pipeline', { guarantee: 'at_least_once', shape: 'services', mergeIdleMs: MERGE_IDLE_MS, ...rep }),
      );
    }
    if (only.has('peer')) {
      // The Kafka Streams peer on the same backlog; built once (when its sources changed)
      // before its first figure. Without Java or Maven every peer figure fails with why.
      let built: Promise<void> | null = null;
      const peers = [
        ['peerKafkaStreamsStateful', 'stateful'],
        ['peerKafkaStreamsPassthrough', 'passthrough'],
        ...(QUICK ? [] : [['peerKafkaStreamsInMemory', 'inmemory']]),
      ] as const;
      for (const [key, topology] of peers) {
        await attempt(key, async () => {
          built ??= buildPeer();
          await built;
          return figure('peer', { topology, ...rep });
        });
      }
    }
    // At half of the measured peak (the issue's figure), per guarantee; then, unless
    // --quick, at a low rate (a tenth of a partition's worth of work per transaction),
    // with the merge's default wait and without it.
    const latencies: Array<{
      key: string;
      guarantee: 'exactly_once' | 'at_least_once';
      from: string;
      share: number | null;
      mergeIdleMs: number;
    }> = [
      {
        key: 'latency',
        guarantee: 'exactly_once',
        from: 'pipelineExactlyOnce',
        share: 0.5,
        mergeIdleMs: MERGE_IDLE_MS,
      },
      {
        key: 'latencyAtLeastOnce',
        guarantee: 'at_least_once',
        from: 'pipelineAtLeastOnce',
        share: 0.5,
        mergeIdleMs: MERGE_IDLE_MS,
      },
      { key: 'latencyLowRate', guarantee: 'exactly_once', from: '', share: null, mergeIdleMs: MERGE_IDLE_MS },
      { key: 'latencyLowRateNoMergeWait', guarantee: 'exactly_once', from: '', share: null, mergeIdleMs: 0 },
    ];
    for (const l of latencies) {
      if (!only.has('latency') || (QUICK && l.key !== 'latency')) continue;
      const { peak, source } = peakOf(results, l.from);
      const rate =
        opts.rate && l.share !== null
          ? Number(opts.rate)
          : l.share === null
            ? LOW_RATE
            : peak
              ? Math.max(10, Math.round(peak * l.share))
              : QUICK
                ? 200
                : 500;
      await attempt(l.key, () =>
        figure('latency', {
          customers: QUICK ? 100 : 1_000,
          months: 6,
          rate,
          rateSource:
            l.share === null
              ? 'a low, fixed rate'
              : opts.rate
                ? 'given (--rate)'
                : peak
                  ? `half of the ${l.guarantee} pipeline's median (${peak} events/s, ${source})`
                  : 'fixed (no pipeline figure to take half of)',
          cancellationShare: opts['cancellation-share'] ? Number(opts['cancellation-share']) : 0.1,
          warmupSeconds: QUICK ? 3 : 10,
          windowSeconds: QUICK ? 5 : 15,
          reps: Math.max(REPS, QUICK ? 1 : 5),
          mergeIdleMs: l.mergeIdleMs,
          guarantee: l.guarantee,
        }),
      );
    }
    if (only.has('serde')) {
      await attempt('serde', () =>
        figure('serde', {
          customers: QUICK ? 100 : 400,
          months: MONTHS,
          warmups: 1,
          reps: Math.max(REPS, QUICK ? 2 : 5),
        }),
      );
    }
    if (only.has('state')) {
      await attempt('state', () =>
        figure('state', { customers: STATE_CUSTOMERS, warmups: WARMUPS, reps: REPS }, [
          '--expose-gc',
          '--max-old-space-size=8192',
          ...profileArgs('state'),
        ]),
      );
    }
    if (only.has('domain')) {
      await attempt('domain', () => domainFigure());
    }
    // Last: it replaces the input topics with six-partition ones, and deletes them after.
    if (only.has('scale')) {
      await attempt('scaleOut', () =>
        figure('scale', {
          instances: [1, 2, 3],
          customers: CUSTOMERS,
          months: MONTHS,
          guarantee: 'exactly_once',
          mergeIdleMs: MERGE_IDLE_MS,
          warmups: WARMUPS,
          reps: QUICK ? 1 : Math.min(REPS, 3),
        }),
      );
    }
  } finally {
    stopAll();
  }

  const date = new Date().toISOString().slice(0, 10);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${date}-${NAME}.json`);
  for (const [tag, file] of profiles) {
    if (!existsSync(file)) continue;
    const summary = summarizeProfile(file, 20);
    results[`profile:${tag}`] = summary;
    progress(
      `CPU profile of ${tag} (${file}): ${summary.byArea
        .slice(0, 8)
        .map((a) => `${a.area} ${a.share}%`)
        .join(', ')}`,
    );
  }
  const rows = summaryRows(results as Parameters<typeof summaryRows>[0]);
  const table = markdownTable(rows);
  const document = {
    date: new Date().toISOString(),
    machine: { ...machine, loadavgAtEnd: loadavg().map((l) => Number(l.toFixed(2))) },
    settings,
    summary: rows,
    results,
    failures,
  };
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  progress(`results written to ${file}`);
  process.stdout.write(
    `\n${machine.cpus} cores (${machine.cpu}), ${machine.os}, Node ${machine.node}, Kafka ${machine.kafka}, load average ${machine.loadavgAtStart.join(' ')} at start\n\n${table}\n`,
  );
  if (failures.length > 0) {
    progress(`${failures.length} figure(s) failed:\n  ${failures.join('\n  ')}`);
    return 1;
  }
  return 0;
}

function summarizeFiles(files: readonly string[]): void {
  const results: Record<string, unknown> = {};
  for (const file of files) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { results: Record<string, unknown> };
    for (const [key, value] of Object.entries(doc.results))
      if (!(value as { error?: string }).error) results[key] = value;
  }
  process.stdout.write(`${markdownTable(summaryRows(results as Parameters<typeof summaryRows>[0]))}\n`);
}

if (opts.summarize) {
  summarizeFiles(positionals);
  process.exit(0);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    progress(`the benchmark harness failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
