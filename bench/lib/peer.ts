/**
 * The peer a user would pick instead of the pipeline: a Kafka Streams application in
 * Java (bench/kstreams, kafka-streams at the broker's version), exactly_once_v2, one
 * stream thread, over the same backlog on the five input topics (co-partitioned, one
 * task per partition reads all five):
 *
 * - passthrough: every input record copied to an output topic, bytes unchanged;
 * - stateful: a per-customer aggregate (records, last record timestamp, value bytes; no
 *   Avro decoding) in a persistent RocksDB key-value store with its changelog (cached, as
 *   the DSL's stores are by default), the updated 24-byte aggregate out per input record;
 * - inmemory: the same in `Stores.inMemoryKeyValueStore` (changelog too).
 *
 * Each repetition is a fresh JVM with a fresh application.id and state directory; the
 * application runs until its committed offsets reach the inputs' end offsets, then
 * prints what it measured: wall seconds from RUNNING (or its first record) to done, and
 * the JVM's process CPU seconds over that window. Between repetitions its output and
 * internal topics and its consumer group are deleted; the input topics stay.
 *
 * `buildPeer` (called by run.ts before the first peer figure) builds the jar with Maven
 * when pom.xml or a source is newer than it, and fails with a plain message when Java
 * or Maven is missing.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import {
  benchKafka,
  countRecords,
  createTopics,
  deleteGroups,
  deleteTopics,
  endpoints,
  INPUT_TOPICS,
  progress,
  ROOT,
  summarize,
} from './common.ts';

export type PeerTopology = 'passthrough' | 'stateful' | 'inmemory';

export interface PeerArgs {
  topology: PeerTopology;
  warmups: number;
  reps: number;
  /** Give up on a repetition after this long. */
  timeoutSeconds?: number;
}

const PROJECT = join(ROOT, 'bench', 'kstreams');
const JAR = join(PROJECT, 'target', 'kstreams-peer.jar');
const BUILD_LOG = join(ROOT, '.churn', 'bench', 'kstreams-build.log');
/** Output topics and application ids (so internal topics and the group) of the peer. */
const OUT_PREFIX = 'bench.peer.';
const APP_PREFIX = 'bench-peer-';

// ------------------------------------------------------------------ build

function exec(
  command: string,
  args: readonly string[],
  options: { cwd?: string; log?: string } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** Whether `command` can be started (spawn fails with ENOENT otherwise). */
async function available(command: string, args: readonly string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { code, output } = await exec(command, args);
    return { ok: code === 0, output };
  } catch {
    return { ok: false, output: '' };
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether the jar and its copied dependencies are newer than pom.xml and every source. */
function upToDate(): boolean {
  if (!existsSync(JAR) || !existsSync(join(PROJECT, 'target', 'lib'))) return false;
  const sources = Math.max(statSync(join(PROJECT, 'pom.xml')).mtimeMs, newestSource(join(PROJECT, 'src')));
  return statSync(JAR).mtimeMs >= sources;
}

/**
 * Makes sure Java is there and the peer's jar is built (Maven, only when pom.xml or a
 * source is newer than the jar). Throws an Error with a plain message otherwise.
 */
export async function buildPeer(): Promise<void> {
  const java = await available('java', ['-version']);
  if (!java.ok) {
    throw new Error(
      'the Kafka Streams peer needs Java 17 or newer: `java` is not on the PATH (Debian: apt-get install openjdk-17-jre-headless); or leave the peer out with --only (e.g. --only passthrough,pipeline)',
    );
  }
  const major = Number(/version "(\d+)/.exec(java.output)?.[1] ?? 0);
  if (major > 0 && major < 17) throw new Error(`the Kafka Streams peer needs Java 17 or newer; \`java\` is ${major}`);
  if (upToDate()) return;
  const mvn = await available('mvn', ['-v']);
  if (!mvn.ok) {
    throw new Error(
      'building the Kafka Streams peer (bench/kstreams) needs Maven: `mvn` is not on the PATH (Debian: apt-get install maven); or leave the peer out with --only (e.g. --only passthrough,pipeline)',
    );
  }
  progress('building the Kafka Streams peer (mvn -B -q package in bench/kstreams)');
  const started = performance.now();
  const { code, output } = await exec('mvn', ['-B', '-q', '-f', join(PROJECT, 'pom.xml'), 'package'], {
    cwd: PROJECT,
  });
  mkdirSync(join(ROOT, '.churn', 'bench'), { recursive: true });
  writeFileSync(BUILD_LOG, output);
  if (code !== 0 || !existsSync(JAR)) {
    const tail = output.trim().split('\n').slice(-15).join('\n');
    throw new Error(`Maven could not build the Kafka Streams peer (exit ${code}; log: ${BUILD_LOG}):\n${tail}`);
  }
  progress(`Kafka Streams peer built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

// ------------------------------------------------------------------ one repetition

interface PeerReport {
  topology: string;
  records: number;
  expected: number;
  seconds: number;
  cpuSeconds: number;
  startupSeconds: number;
  kafkaStreams: string;
  java: string;
}

async function reset(admin: Admin): Promise<void> {
  await deleteGroups(admin, (g) => g.startsWith(APP_PREFIX));
  await deleteTopics(admin, (t) => t.startsWith(OUT_PREFIX) || t.startsWith(APP_PREFIX));
}

function javaLogLevel(): string {
  const level = process.env.BENCH_LOG_LEVEL ?? 'error';
  return level === 'fatal' || level === 'silent' ? 'off' : level;
}

async function once(admin: Admin, args: PeerArgs): Promise<PeerReport> {
  await reset(admin);
  const output = `${OUT_PREFIX}${args.topology}`;
  await createTopics(admin, [output]);
  const applicationId = `${APP_PREFIX}${args.topology}-${randomUUID().slice(0, 8)}`;
  const stateDir = mkdtempSync(join(tmpdir(), `${applicationId}-`));
  try {
    const javaArgs = [
      `-Dorg.slf4j.simpleLogger.defaultLogLevel=${javaLogLevel()}`,
      '-Dorg.slf4j.simpleLogger.logFile=System.err',
      '-jar',
      JAR,
      '--brokers',
      endpoints().brokers,
      '--application-id',
      applicationId,
      '--topology',
      args.topology,
      '--inputs',
      INPUT_TOPICS.join(','),
      '--output',
      output,
      '--state-dir',
      stateDir,
      '--timeout-seconds',
      String(args.timeoutSeconds ?? 600),
    ];
    const report = await new Promise<PeerReport>((resolve, reject) => {
      const child = spawn('java', javaArgs, { cwd: PROJECT, stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      const onSignal = () => child.kill('SIGTERM');
      process.once('SIGTERM', onSignal);
      child.on('error', reject);
      child.on('close', (code) => {
        process.off('SIGTERM', onSignal);
        const line = stdout
          .split('\n')
          .reverse()
          .find((l) => l.startsWith('{'));
        if (code === 0 && line) resolve(JSON.parse(line) as PeerReport);
        else reject(new Error(`the Kafka Streams peer (${args.topology}) exited ${code} without a report`));
      });
    });
    if (report.records < report.expected)
      throw new Error(`the Kafka Streams peer processed ${report.records} of ${report.expected} records`);
    return report;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function run(args: PeerArgs) {
  const kafka = benchKafka('churn-bench-peer');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const inputEvents = [...(await countRecords(admin, INPUT_TOPICS)).values()].reduce((a, b) => a + b, 0);
    const reps: PeerReport[] = [];
    for (let i = 0; i < args.warmups + args.reps; i++) {
      const r = await once(admin, args);
      const warm = i < args.warmups;
      progress(
        `Kafka Streams peer, ${args.topology} ${warm ? 'warm-up' : `rep ${i - args.warmups + 1}/${args.reps}`}: ${r.records} records in ${r.seconds.toFixed(2)} s = ${Math.round(inputEvents / r.seconds)} events/s, ${Math.round(inputEvents / r.cpuSeconds)} per CPU second (JVM start to RUNNING ${r.startupSeconds.toFixed(1)} s)`,
      );
      if (!warm) reps.push(r);
    }
    await reset(admin);
    return {
      topology: args.topology,
      store: args.topology === 'stateful' ? 'rocksdb' : args.topology === 'inmemory' ? 'in-memory' : null,
      guarantee: 'exactly_once_v2',
      streamThreads: 1,
      kafkaStreams: reps[0]?.kafkaStreams ?? 'unknown',
      java: reps[0]?.java ?? 'unknown',
      inputEvents,
      /** Input events per second, from RUNNING (or the first record) to every input offset committed. */
      eventsPerSecond: summarize(reps.map((r) => inputEvents / r.seconds)),
      /** Input events per CPU second of the JVM over the same window. */
      eventsPerCpuSecond: summarize(reps.map((r) => inputEvents / r.cpuSeconds)),
      seconds: summarize(
        reps.map((r) => r.seconds),
        2,
      ),
      cpuSeconds: summarize(
        reps.map((r) => r.cpuSeconds),
        2,
      ),
      /** JVM start to RUNNING: not in the window. */
      startupSeconds: summarize(
        reps.map((r) => r.startupSeconds),
        2,
      ),
    };
  } finally {
    await admin.disconnect();
  }
}
