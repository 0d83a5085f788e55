/**
 * Scale-out: one, two and three engine instances, each a process of its own (as they
 * are deployed), over input topics of six partitions holding the same generated
 * workload as the backlog. Timed from the first instance ready to every instance having
 * processed all it holds, with all six partitions held; the CPU is every instance's,
 * from its ready to done. Events per CPU second shows what an instance costs; events/s
 * what the group achieves on this machine (two cores: three instances share them).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { ensureTopics, topicsOf } from '@churn/runtime';
import type { Admin } from 'kafkajs';
import {
  benchKafka,
  deleteGroups,
  deleteTopics,
  INPUT_TOPICS,
  machineNow,
  produceAll,
  progress,
  ROOT,
  sleep,
  summarize,
} from './common.ts';
import { resetPipeline } from './pipeline.ts';
import { encode, generate } from './workload.ts';

export const SCALE_PARTITIONS = 6;

export interface ScaleArgs {
  instances: number[];
  customers: number;
  months: number;
  warmups: number;
  reps: number;
  guarantee: 'exactly_once' | 'at_least_once';
  mergeIdleMs: number;
  timeoutMs?: number;
}

interface Host {
  child: ChildProcess;
  ask<T>(message: object, key: string): Promise<T>;
}

function host(): Host {
  const child = fork(join(ROOT, 'bench/lib/scale-host.ts'), [], {
    execArgv: ['--conditions=source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    cwd: ROOT,
  });
  const waiting: Array<{ key: string; resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  child.on('message', (m: Record<string, unknown>) => {
    if (typeof m.error === 'string') {
      for (const w of waiting.splice(0)) w.reject(new Error(m.error));
      return;
    }
    const i = waiting.findIndex((w) => w.key in m);
    if (i >= 0) waiting.splice(i, 1)[0]?.resolve(m);
  });
  child.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`an engine instance exited (${code})`));
  });
  return {
    child,
    ask: <T>(message: object, key: string) =>
      new Promise<T>((resolve, reject) => {
        waiting.push({ key, resolve: resolve as (v: unknown) => void, reject });
        child.send(message);
      }),
  };
}

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

interface Rep {
  seconds: number;
  cpuSeconds: number;
  readySpreadSeconds: number;
}

async function once(admin: Admin, args: ScaleArgs, instances: number): Promise<Rep> {
  await resetPipeline(admin);
  const env = {
    PROCESSING_GUARANTEE: args.guarantee,
    MERGE_IDLE_MS: String(args.mergeIdleMs),
    TOPIC_PARTITIONS: String(SCALE_PARTITIONS),
  };
  const hosts = Array.from({ length: instances }, host);
  try {
    const ready: Array<{ at: number; cpu: NodeJS.CpuUsage }> = [];
    const starting = hosts.map((h, i) =>
      h
        .ask<{ cpu: NodeJS.CpuUsage }>({ cmd: 'start', env: { ...env, INSTANCE_ID: `scale-${i}` } }, 'ready')
        .then((m) => {
          ready[i] = { at: performance.now(), cpu: m.cpu };
        }),
    );
    await Promise.race(starting);
    const first = performance.now();
    const deadline = Date.now() + (args.timeoutMs ?? 600_000);
    for (;;) {
      if (Date.now() > deadline) throw new Error(`${instances} engine instances did not finish the backlog in time`);
      await sleep(100);
      if (ready.filter(Boolean).length < instances) continue;
      const states = await Promise.all(
        hosts.map((h) => h.ask<{ done: boolean; held: number[] }>({ cmd: 'done' }, 'done')),
      );
      const held = states.reduce((n, s) => n + s.held.length, 0);
      if (held === SCALE_PARTITIONS && states.every((s) => s.done)) break;
    }
    const done = performance.now();
    const ends = await Promise.all(hosts.map((h) => h.ask<{ cpu: NodeJS.CpuUsage }>({ cmd: 'cpu' }, 'cpu')));
    const used = ends.reduce((n, e, i) => n + cpuSeconds(e.cpu) - cpuSeconds(ready[i]!.cpu), 0);
    const lastReady = Math.max(...ready.map((r) => r.at));
    return { seconds: (done - first) / 1000, cpuSeconds: used, readySpreadSeconds: (lastReady - first) / 1000 };
  } finally {
    await Promise.allSettled(hosts.map((h) => h.ask({ cmd: 'stop' }, 'stopped')));
    for (const h of hosts) h.child.kill('SIGKILL');
  }
}

export async function run(args: ScaleArgs) {
  const kafka = benchKafka('churn-bench-scale');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const events = generate({ customers: args.customers, months: args.months, seed: 1 });
    const records = await encode(events);
    await deleteGroups(admin, () => true);
    await deleteTopics(admin, () => true);
    await ensureTopics(admin, topicsOf(INPUT_TOPICS, []), SCALE_PARTITIONS, 1);
    progress(
      `scale: ${records.length} events on ${INPUT_TOPICS.length} input topics of ${SCALE_PARTITIONS} partitions`,
    );
    await produceAll(kafka, records);
    const byInstances: Record<string, unknown> = {};
    for (const n of args.instances) {
      const reps: Rep[] = [];
      for (let i = 0; i < args.warmups + args.reps; i++) {
        const r = await once(admin, args, n);
        const warm = i < args.warmups;
        progress(
          `scale ${n} instance${n > 1 ? 's' : ''} ${warm ? 'warm-up' : `rep ${i - args.warmups + 1}/${args.reps}`}: ${records.length} events in ${r.seconds.toFixed(2)} s = ${Math.round(records.length / r.seconds)} events/s, ${Math.round(records.length / r.cpuSeconds)} per CPU second (ready spread ${r.readySpreadSeconds.toFixed(1)} s, load ${machineNow().loadavg[0]})`,
        );
        if (!warm) reps.push(r);
      }
      byInstances[String(n)] = {
        eventsPerSecond: summarize(reps.map((r) => records.length / r.seconds)),
        eventsPerCpuSecond: summarize(reps.map((r) => records.length / r.cpuSeconds)),
        readySpreadSeconds: summarize(
          reps.map((r) => r.readySpreadSeconds),
          2,
        ),
      };
    }
    await resetPipeline(admin);
    // The other figures read input topics of the usual partition count: leave none of six behind.
    await deleteTopics(admin, () => true);
    return {
      partitions: SCALE_PARTITIONS,
      inputEvents: records.length,
      guarantee: args.guarantee,
      instances: byInstances,
    };
  } finally {
    await admin.disconnect();
  }
}
