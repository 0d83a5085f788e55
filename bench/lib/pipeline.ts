/**
 * The pipeline over the backlog: every service (the topologies `npm start` runs),
 * each started as its own service (own clients, consumer group, changelog and metrics),
 * all at once and hosted in this one process, reads the generated input topics from
 * the beginning. Timed from the first service ready (partitions assigned, state
 * restored: processing starts) to every service having processed and committed all
 * its inputs, downstream topics included. Events/s = input events / that time.
 *
 * Between repetitions the services' consumer groups, changelogs, outputs and internal
 * topics are deleted; the input topics stay.
 */
import { type Shape, servicesOf } from '@churn/cli';
import { type RunningService, startService } from '@churn/runtime';
import type { Admin } from 'kafkajs';
import {
  benchKafka,
  countRecords,
  deleteGroups,
  deleteTopics,
  endOffsets,
  INPUT_TOPICS,
  machineNow,
  policy,
  progress,
  serviceConfig,
  sleep,
  summarize,
} from './common.ts';

export interface PipelineArgs {
  guarantee: 'exactly_once' | 'at_least_once';
  /** The deployment shape: the engine (the default) or one service per processor. */
  shape?: Shape;
  mergeIdleMs: number;
  warmups: number;
  reps: number;
  /** Give up on a repetition after this long. */
  timeoutMs?: number;
}

const inputs = new Set<string>(INPUT_TOPICS);

/** Removes what the services wrote, so that the next run starts from an empty pipeline on the same inputs. */
export async function resetPipeline(admin: Admin): Promise<void> {
  await deleteGroups(admin, (g) => g.startsWith('churn-'));
  await deleteTopics(admin, (t) => !inputs.has(t) && !t.endsWith('.dlq') && !t.startsWith('bench.'));
}

/** Starts every service of the pipeline's deployment shape at once, each as its own service in this process. */
export function startPipeline(env: Record<string, string>, shape: Shape = 'engine'): Array<Promise<RunningService>> {
  const config = serviceConfig(env);
  return servicesOf(policy(), shape).map(({ service, topologies }) =>
    startService({ name: service, topologies, config, handleSignals: false }),
  );
}

/** Whether every runner has processed all its inputs up to the ends the broker reports now. */
export async function pipelineDone(admin: Admin, services: readonly RunningService[]): Promise<boolean> {
  const runners = services.flatMap((s) => s.runners);
  if (!runners.every((r) => r.isReady() && r.isCaughtUp())) return false;
  const ends = await endOffsets(admin, [...new Set(runners.flatMap((r) => r.positions().map((p) => p.topic)))]);
  for (const runner of runners) {
    for (const p of runner.positions()) {
      const end = ends.get(`${p.topic}/${p.partition}`);
      if (p.buffered > 0 || end === undefined || p.fetched === '-' || BigInt(p.fetched) < end) return false;
    }
  }
  // Nothing buffered or in flight, and the broker agrees: still caught up after that round trip?
  return runners.every((r) => r.isCaughtUp());
}

async function counted(services: readonly RunningService[]) {
  let produced = 0;
  let deadLetters = 0;
  for (const s of services) {
    for (const v of (await s.metrics.eventsProduced.get()).values) produced += v.value;
    for (const v of (await s.metrics.deadLetters.get()).values) deadLetters += v.value;
  }
  return { produced, deadLetters };
}

interface Rep {
  seconds: number;
  /** CPU seconds this process used (user + system) from the first service ready to done. */
  cpuSeconds: number;
  eventsPerSecond: number;
  startupSeconds: number;
  readySpreadSeconds: number;
  outputs: number;
  deadLetters: number;
  heapUsedMB: number;
}

async function once(admin: Admin, args: PipelineArgs, inputEvents: number): Promise<Rep> {
  await resetPipeline(admin);
  const env = { PROCESSING_GUARANTEE: args.guarantee, MERGE_IDLE_MS: String(args.mergeIdleMs) };
  const started = performance.now();
  const starting = startPipeline(env, args.shape);
  const services: RunningService[] = [];
  let failed: unknown = null;
  for (const s of starting)
    s.then(
      (svc) => services.push(svc),
      (err: unknown) => {
        failed = err;
      },
    );
  let firstReady = 0;
  let cpuAtReady: NodeJS.CpuUsage | null = null;
  let lastReady = 0;
  const deadline = Date.now() + (args.timeoutMs ?? 600_000);
  try {
    for (;;) {
      if (failed) throw failed;
      const now = performance.now();
      const ready = services.flatMap((s) => s.runners).filter((r) => r.isReady()).length;
      if (ready > 0 && !firstReady) {
        firstReady = now;
        cpuAtReady = process.cpuUsage();
      }
      const runners = services.flatMap((s) => s.runners).length;
      if (services.length === starting.length && ready === runners && !lastReady) lastReady = now;
      if (lastReady && (await pipelineDone(admin, services))) break;
      if (Date.now() > deadline) {
        const behind = services
          .flatMap((s) => s.runners)
          .filter((r) => !r.isCaughtUp())
          .map((r) => `${r.name} ${JSON.stringify(r.positions().filter((p) => p.fetched !== p.high || p.buffered))}`);
        throw new Error(`the pipeline did not catch up in time; behind: ${behind.join('; ')}`);
      }
      await sleep(20);
    }
    const done = performance.now();
    const cpu = process.cpuUsage(cpuAtReady ?? undefined);
    const { produced, deadLetters } = await counted(services);
    const seconds = (done - firstReady) / 1000;
    return {
      seconds,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      eventsPerSecond: inputEvents / seconds,
      startupSeconds: (firstReady - started) / 1000,
      readySpreadSeconds: (lastReady - firstReady) / 1000,
      outputs: produced,
      deadLetters,
      heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1e6),
    };
  } finally {
    await Promise.allSettled(starting);
    await Promise.all(services.map((s) => s.stop()));
  }
}

export async function run(args: PipelineArgs) {
  const kafka = benchKafka('churn-bench-pipeline');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const inputEvents = [...(await countRecords(admin, INPUT_TOPICS)).values()].reduce((a, b) => a + b, 0);
    const reps: Rep[] = [];
    const loads: number[][] = [];
    for (let i = 0; i < args.warmups + args.reps; i++) {
      const r = await once(admin, args, inputEvents);
      const warm = i < args.warmups;
      progress(
        `pipeline ${args.shape ?? 'engine'} ${args.guarantee} ${warm ? 'warm-up' : `rep ${i - args.warmups + 1}/${args.reps}`}: ${inputEvents} events in ${r.seconds.toFixed(2)} s = ${Math.round(r.eventsPerSecond)} events/s, ${Math.round(inputEvents / r.cpuSeconds)} per CPU second (start-up ${r.startupSeconds.toFixed(1)} s, ready spread ${r.readySpreadSeconds.toFixed(1)} s, ${r.outputs} outputs, ${r.deadLetters} dead letters)`,
      );
      if (!warm) {
        reps.push(r);
        loads.push(machineNow().loadavg);
      }
    }
    await resetPipeline(admin);
    return {
      guarantee: args.guarantee,
      shape: args.shape ?? 'engine',
      mergeIdleMs: args.mergeIdleMs,
      services: servicesOf(policy(), args.shape).map((s) => s.service),
      inputEvents,
      eventsPerSecond: summarize(reps.map((r) => r.eventsPerSecond)),
      /** Input events per CPU second of this process: less sensitive to a shared machine than wall time. */
      eventsPerCpuSecond: summarize(reps.map((r) => inputEvents / r.cpuSeconds)),
      seconds: summarize(
        reps.map((r) => r.seconds),
        2,
      ),
      startupSeconds: summarize(
        reps.map((r) => r.startupSeconds),
        2,
      ),
      readySpreadSeconds: summarize(
        reps.map((r) => r.readySpreadSeconds),
        2,
      ),
      outputsPerRep: reps.map((r) => r.outputs),
      deadLettersPerRep: reps.map((r) => r.deadLetters),
      heapUsedMB: reps.map((r) => r.heapUsedMB),
      loadavgAfterRep: loads,
    };
  } finally {
    await admin.disconnect();
  }
}
