/**
 * Throughput of the domain core's hot paths on one core: value updates per second
 * (keepCustomerValue over invoice events) and decisions per second (decideOnCancellation).
 * Warm-up, then repetitions; prints median/min/max and writes them to
 * bench/results/<YYYY-MM-DD>-domain.json at the repository root.
 *
 *   npm run bench:domain [-- --reps 7] [-- --customers 5000] [-- --out FILE]
 *
 * `npm run bench` runs it as its domain figure, with --out pointing at its own file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type {
  CancellationReason,
  CancellationRequested,
  CustomerProfile,
  CustomerValue,
  InvoiceEvent,
} from '@churn/contracts';
import { CancellationReasonValues } from '@churn/contracts';
import {
  type CustomerValueState,
  decideOnCancellation,
  deriveId,
  keepCustomerValue,
  loadPolicy,
  snapshotOf,
} from '../src/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const policy = loadPolicy(JSON.parse(readFileSync(join(root, 'policies', 'default.json'), 'utf8')));

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const MONTHS = 24;
function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}
const CUSTOMERS = Number(option('--customers') ?? 5_000);
const REPS = Number(option('--reps') ?? 7);
const OUT = option('--out');

function profileOf(i: number): CustomerProfile {
  return {
    eventId: deriveId('bench-profile', String(i)),
    occurredAt: T0,
    customerId: `cust-${i}`,
    segment: i % 3 === 0 ? 'B2C' : 'B2B',
    signedUpAt: T0 - (i % 2000) * DAY,
    acquisitionCost: 1_000_000 + (i % 7) * 500_000,
    currency: 'DKK',
    potential: i % 4 === 0 ? 'GROW' : 'RETAIN',
    accountManager: i % 5 === 0 ? null : `am-${i % 50}`,
    executiveSponsor: i % 2 === 0 ? `exec-${i % 10}` : null,
    plan: null,
  };
}

/** Per customer: the profile, then per month an ISSUED and a PAID event, interleaved across customers by time. */
function invoiceStream(): (InvoiceEvent | CustomerProfile)[] {
  const out: (InvoiceEvent | CustomerProfile)[] = [];
  for (let i = 0; i < CUSTOMERS; i++) out.push(profileOf(i));
  for (let m = 0; m < MONTHS; m++) {
    for (let i = 0; i < CUSTOMERS; i++) {
      const issuedAt = T0 + m * 30 * DAY + (i % 20) * 3_600_000;
      const invoiceId = `inv-${i}-${m}`;
      const amount = 100_000 + ((i * 7919) % 5_000_000);
      const base = {
        invoiceId,
        customerId: `cust-${i}`,
        amount,
        currency: 'DKK',
        costToServe: i % 2 === 0 ? Math.round(amount * 0.6) : null,
        issuedAt,
        dueAt: issuedAt + 30 * DAY,
      };
      out.push({
        ...base,
        eventId: deriveId(invoiceId, 'ISSUED'),
        occurredAt: issuedAt,
        status: 'ISSUED',
        paidAt: null,
      });
      const paidAt = issuedAt + 20 * DAY;
      out.push({ ...base, eventId: deriveId(invoiceId, 'PAID'), occurredAt: paidAt, status: 'PAID', paidAt });
    }
  }
  return out;
}

/**
 * Rates by the main thread's own CPU time too: on a shared machine, wall-clock rates also
 * measure the neighbours; CPU time of the thread does not (GC helper threads excluded).
 */
const cpuRates = { value: [] as number[], decisions: [] as number[] };

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.threadCpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function valueUpdatesPerSecond(events: readonly (InvoiceEvent | CustomerProfile)[]): number {
  const states = new Map<string, CustomerValueState>();
  const ctx = { now: 0, policy };
  let emitted = 0;
  const cpu = process.threadCpuUsage();
  const start = process.hrtime.bigint();
  for (const event of events) {
    ctx.now = event.occurredAt;
    const result = keepCustomerValue(event, states.get(event.customerId), ctx);
    states.set(event.customerId, result.state);
    emitted += result.emit.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  cpuRates.value.push(events.length / cpuSecondsSince(cpu));
  if (emitted === 0) throw new Error('no snapshots emitted: the benchmark measures nothing');
  return events.length / seconds;
}

/** Realistic snapshots: the values the stream above produces. */
function valuesFrom(events: readonly (InvoiceEvent | CustomerProfile)[]): CustomerValue[] {
  const states = new Map<string, CustomerValueState>();
  for (const event of events) {
    states.set(
      event.customerId,
      keepCustomerValue(event, states.get(event.customerId), { now: event.occurredAt, policy }).state,
    );
  }
  return [...states.values()].map((s) => snapshotOf(s, policy));
}

function cancellations(values: readonly CustomerValue[]): CancellationRequested[] {
  return values.map((v, i) => ({
    eventId: deriveId('bench-cancellation', String(i)),
    occurredAt: v.asOf,
    cancellationId: `canc-${i}`,
    customerId: v.customerId,
    subscriptionId: null,
    effectiveAt: i % 2 === 0 ? v.asOf + 30 * DAY : null,
    channel: 'PHONE',
    reason: CancellationReasonValues[i % CancellationReasonValues.length] as CancellationReason,
    reasonText: null,
  }));
}

function decisionsPerSecond(
  values: readonly CustomerValue[],
  events: readonly CancellationRequested[],
  rounds: number,
): number {
  const ctx = { now: 0, policy };
  let emitted = 0;
  const cpu = process.threadCpuUsage();
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      ctx.now = event.occurredAt;
      emitted += decideOnCancellation(event, { value: values[i]!, decided: [] }, ctx).emit.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  cpuRates.decisions.push((events.length * rounds) / cpuSecondsSince(cpu));
  if (emitted === 0) throw new Error('no decisions emitted');
  return (events.length * rounds) / seconds;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: Math.round(sorted[Math.floor(sorted.length / 2)]!),
    min: Math.round(sorted[0]!),
    max: Math.round(sorted.at(-1)!),
    samples: samples.map(Math.round),
  };
}

const stream = invoiceStream();
const values = valuesFrom(stream);
const cancels = cancellations(values);

// One path at a time, each after its own warm-up, so that one path's garbage does not land on the other's clock.
for (let i = 0; i < 3; i++) valueUpdatesPerSecond(stream);
cpuRates.value.length = 0;
const valueSamples: number[] = [];
for (let i = 0; i < REPS; i++) valueSamples.push(valueUpdatesPerSecond(stream));

for (let i = 0; i < 3; i++) decisionsPerSecond(values, cancels, 4);
cpuRates.decisions.length = 0;
const decisionSamples: number[] = [];
for (let i = 0; i < REPS; i++) decisionSamples.push(decisionsPerSecond(values, cancels, 20));

/** Heap bytes per customer of the value states the stream leaves behind (a forced GC before and after). */
function heapPerCustomer(): { heapBytes: number; jsonBytes: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const states = new Map<string, CustomerValueState>();
  for (const event of stream) {
    states.set(
      event.customerId,
      keepCustomerValue(event, states.get(event.customerId), { now: event.occurredAt, policy }).state,
    );
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  let json = 0;
  for (const s of states.values()) json += JSON.stringify(s).length;
  // The Map's own entries and key strings are counted too: what a runner holding the states pays.
  return { heapBytes: Math.round((after - before) / states.size), jsonBytes: Math.round(json / states.size) };
}

const memory = heapPerCustomer();

const result = {
  date: new Date().toISOString(),
  policyVersion: policy.version,
  node: process.version,
  platform: `${platform()}-${arch()}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  repetitions: REPS,
  valueUpdatesPerSecond: {
    ...summary(valueSamples),
    byThreadCpuTime: summary(cpuRates.value),
    target: 1_000_000,
    eventsPerRepetition: stream.length,
  },
  decisionsPerSecond: {
    ...summary(decisionSamples),
    byThreadCpuTime: summary(cpuRates.decisions),
    target: 300_000,
    decisionsPerRepetition: cancels.length * 20,
  },
  valueStatePerCustomer: { ...memory, target: 1000, monthsOfInvoices: MONTHS },
};

const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const file = OUT ?? join(dir, `${result.date.slice(0, 10)}-domain.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
const fmt = (n: number) => n.toLocaleString('en-US');
console.log(
  `value updates/s: median ${fmt(result.valueUpdatesPerSecond.median)} (min ${fmt(result.valueUpdatesPerSecond.min)}, max ${fmt(result.valueUpdatesPerSecond.max)}; target 1,000,000)`,
);
console.log(
  `decisions/s:     median ${fmt(result.decisionsPerSecond.median)} (min ${fmt(result.decisionsPerSecond.min)}, max ${fmt(result.decisionsPerSecond.max)}; target 300,000)`,
);
console.log(
  `by thread CPU time: value updates/s median ${fmt(result.valueUpdatesPerSecond.byThreadCpuTime.median)}, decisions/s median ${fmt(result.decisionsPerSecond.byThreadCpuTime.median)}`,
);
console.log(
  `value state per customer: ${memory.heapBytes} bytes of heap, ${memory.jsonBytes} bytes of JSON (target <= 1000)`,
);
console.log(`written to ${file}`);
