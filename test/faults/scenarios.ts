/**
 * The faults: each scenario is a schedule of faults injected while the services work
 * through the input. Every fault is recorded with when it happened, whether the
 * services were still working through the input (and, for a live input, whether it was
 * still being produced), and how long the pipeline took to recover (every instance ready
 * again; for the broker and the registry, also the first output after the restart).
 */
import type { Random } from '@churn/cli';
import { infra, type Reader } from './cluster.ts';
import type { Instance, ServiceOfShape } from './processes.ts';

export interface FaultRecord {
  kind: string;
  target: string;
  at: number;
  /** Whether the services had not yet finished the input when it happened. */
  midStream: boolean;
  /** For a live input, whether records were still to be produced when it happened. */
  producing: boolean | null;
  recoveryMs: number | null;
}

export interface FaultContext {
  rnd: Random;
  reader: Reader;
  /** The services of the deployment shape. */
  services: readonly ServiceOfShape[];
  instances: () => Instance[];
  addInstance: (service: string) => Instance;
  removeInstance: (instance: Instance) => void;
  finished: () => boolean;
  /** For a live input, whether records are still to be produced; null for a backlog. */
  producing: () => boolean | null;
  faults: FaultRecord[];
  log: (line: string) => void;
}

export const SCENARIOS = ['bad-input', 'kill', 'broker', 'registry', 'rebalance', 'slow', 'soak', 'live-soak'] as const;
export type Scenario = (typeof SCENARIOS)[number];
/** Scenarios whose input is produced live whether or not the run is `--live`. */
export const LIVE_SCENARIOS: readonly Scenario[] = ['live-soak'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function allReady(ctx: FaultContext, since: number, timeoutMs = 180_000): Promise<number | null> {
  for (;;) {
    const states = await Promise.all(ctx.instances().map((i) => i.ready()));
    if (states.every(Boolean)) return Date.now() - since;
    if (Date.now() - since > timeoutMs) return null;
    await sleep(100);
  }
}

/** Waits for all instances ready and, unless the input is done, a new output after `since`. */
async function recovered(ctx: FaultContext, since: number): Promise<number | null> {
  const ready = await allReady(ctx, since);
  if (ready === null) return null;
  for (;;) {
    if (ctx.finished() || ctx.reader.lastAt > since)
      return Math.max(ready, Math.min(Date.now(), ctx.reader.lastAt) - since);
    if (Date.now() - since > 180_000) return null;
    await sleep(100);
  }
}

function record(ctx: FaultContext, kind: string, target: string, at: number): FaultRecord {
  const producing = ctx.producing();
  const fault: FaultRecord = { kind, target, at, midStream: !ctx.finished(), producing, recoveryMs: null };
  ctx.faults.push(fault);
  const when =
    producing === true ? ' (input still being produced)' : fault.midStream ? '' : ' (after the input was done)';
  ctx.log(`fault ${ctx.faults.length}: ${kind} ${target}${when}`);
  return fault;
}

function pick<T>(ctx: FaultContext, list: readonly T[]): T {
  return list[ctx.rnd.int(0, list.length - 1)] as T;
}

export async function killService(ctx: FaultContext): Promise<void> {
  const target = pick(
    ctx,
    ctx.instances().filter((i) => i.running),
  );
  const at = Date.now();
  const fault = record(ctx, 'SIGKILL service', target.id, at);
  await target.kill();
  await sleep(ctx.rnd.int(200, 1500));
  target.start();
  fault.recoveryMs = await allReady(ctx, at);
}

export async function killBroker(ctx: FaultContext): Promise<void> {
  const at = Date.now();
  const fault = record(ctx, 'SIGKILL broker', 'kafka', at);
  await infra('down', 'kafka', '--kill');
  await sleep(ctx.rnd.int(2000, 6000));
  await infra('up', 'kafka');
  fault.recoveryMs = await recovered(ctx, at);
}

export async function restartRegistry(ctx: FaultContext, alsoKill: boolean): Promise<void> {
  const at = Date.now();
  // Stopped (SIGTERM), not killed: a registry is a database-backed service whose own
  // crash recovery is not what this suite tests.
  const fault = record(ctx, 'registry stopped', 'registry', at);
  await infra('down', 'registry');
  let killed: FaultRecord | null = null;
  if (alsoKill) {
    // A service that starts while the registry is away cannot check its schemas: it
    // exits, and the supervisor starts it again until the registry is back.
    const target = pick(
      ctx,
      ctx.instances().filter((i) => i.running),
    );
    killed = record(ctx, 'SIGKILL service during registry outage', target.id, Date.now());
    await target.kill();
    target.start();
  }
  await sleep(ctx.rnd.int(3000, 8000));
  await infra('up', 'registry');
  fault.recoveryMs = await recovered(ctx, at);
  if (killed) killed.recoveryMs = fault.recoveryMs === null ? null : Date.now() - killed.at;
}

export async function rebalance(ctx: FaultContext): Promise<void> {
  const service = pick(ctx, [...new Set(ctx.instances().map((i) => i.service))]);
  const at = Date.now();
  const joined = ctx.addInstance(service);
  const fault = record(ctx, 'instance joins', joined.id, at);
  fault.recoveryMs = await allReady(ctx, at);
  await sleep(ctx.rnd.int(2000, 6000));
  // Either the newcomer or the original leaves (SIGTERM): the partitions move again.
  const leaving = pick(
    ctx,
    ctx.instances().filter((i) => i.service === service),
  );
  const left = Date.now();
  const leave = record(ctx, 'instance leaves', leaving.id, left);
  await leaving.stop();
  ctx.removeInstance(leaving);
  leave.recoveryMs = await allReady(ctx, left);
}

/**
 * A slow consumer: a downstream instance stops (SIGSTOP) for a while, sometimes longer
 * than the session timeout, so that its partitions move and it comes back as a zombie
 * that must be fenced.
 */
export async function pause(ctx: FaultContext): Promise<void> {
  const target = pick(
    ctx,
    ctx.instances().filter((i) => i.running),
  );
  const at = Date.now();
  const ms = ctx.rnd.int(1000, 10_000);
  const fault = record(ctx, `SIGSTOP ${Math.round(ms / 1000)} s`, target.id, at);
  target.pause();
  await sleep(ms);
  target.resume();
  fault.recoveryMs = await allReady(ctx, at);
}

/**
 * The scenario's schedule: the steps to run one after the other, a short gap before each.
 * With a single service (the engine), the scenarios that kill or pause an instance run
 * two instances of it, so that a fault hands its partitions over to the other one, as
 * it does between the services of the per-processor shape.
 */
export function scheduleOf(scenario: Scenario, ctx: FaultContext, quick: boolean): Array<() => Promise<void>> {
  const kills = quick ? 3 : 10;
  const deciding = (ctx.services.find((s) => s.decides) ?? ctx.services[0])?.dir as string;
  const second = async () => {
    if (ctx.services.length > 1) return;
    const extra = ctx.addInstance(deciding);
    await extra.waitReady();
  };
  const plan: Array<() => Promise<void>> = [];
  switch (scenario) {
    case 'bad-input':
      break;
    case 'kill':
      plan.push(second);
      for (let i = 0; i < kills; i++) plan.push(() => killService(ctx));
      break;
    case 'broker':
      for (let i = 0; i < (quick ? 1 : 2); i++) plan.push(() => killBroker(ctx));
      break;
    case 'registry':
      for (let i = 0; i < (quick ? 1 : 2); i++) plan.push(() => restartRegistry(ctx, i === 0));
      break;
    case 'rebalance':
      for (let i = 0; i < (quick ? 2 : 5); i++) plan.push(() => rebalance(ctx));
      break;
    case 'slow': {
      // Two instances of the deciding service, so a long pause hands its partitions over.
      plan.push(async () => {
        const extra = ctx.addInstance(deciding);
        await extra.waitReady();
      });
      for (let i = 0; i < (quick ? 2 : 6); i++) plan.push(() => pause(ctx));
      break;
    }
    case 'soak':
    case 'live-soak': {
      // Every fault, shuffled: at least `kills` SIGKILLs among them.
      const faults: Array<() => Promise<void>> = [];
      for (let i = 0; i < kills; i++) faults.push(() => killService(ctx));
      for (let i = 0; i < (quick ? 1 : 2); i++) {
        faults.push(() => killBroker(ctx));
        faults.push(() => restartRegistry(ctx, i === 0));
      }
      for (let i = 0; i < (quick ? 1 : 3); i++) {
        faults.push(() => rebalance(ctx));
        faults.push(() => pause(ctx));
      }
      for (let i = faults.length - 1; i > 0; i--) {
        const j = ctx.rnd.int(0, i);
        [faults[i], faults[j]] = [faults[j] as () => Promise<void>, faults[i] as () => Promise<void>];
      }
      plan.push(second, ...faults);
      break;
    }
  }
  return plan;
}

/** Runs a schedule of `scheduleOf`; `onStep(done, of)` after each step. Returns when it is done. */
export async function runScenario(
  ctx: FaultContext,
  plan: ReadonlyArray<() => Promise<void>>,
  quick: boolean,
  onStep: (done: number, of: number) => void = () => {},
): Promise<void> {
  const gap = () => sleep(ctx.rnd.int(quick ? 200 : 1000, quick ? 1000 : 4000));
  for (let i = 0; i < plan.length; i++) {
    await gap();
    await (plan[i] as () => Promise<void>)();
    onStep(i + 1, plan.length);
  }
}
