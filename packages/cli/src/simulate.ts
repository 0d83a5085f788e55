/**
 * `churnctl simulate`: a closed loop that measures how well a policy does in a world
 * whose truth it does not know. The world's events go, in event-time order, through the
 * real in-process pipeline (`replay`, reading a pipe the simulator writes to) under the
 * policy. Each cancellation gets its decision and retention task from the pipeline; the
 * task's outcome is drawn from the world's true save rate and fed back a few days later,
 * within the month, as a `contact-center.task-outcomes.v1` event. A saved customer stays
 * and keeps being invoiced; any other leaves. Every decision is judged against an oracle
 * that knows the truth (`simulate-evaluate.ts`).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CancellationRequested, ChurnDecision, ContactTask, TaskOutcome } from '@churn/contracts';
import { loadPolicy, type Policy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { formatLine, type OfflineEvent } from './offline.ts';
import { type ReplayResult, replay } from './replay.ts';
import {
  choiceOf,
  type Evaluation,
  evaluate,
  evaluateCase,
  type JudgedCase,
  type ShareOfValue,
  thirdOf,
} from './simulate-evaluate.ts';
import {
  cohortKey,
  DAY,
  drawFate,
  outcomeKindOf,
  type SimCancellation,
  trueSaveRate,
  WORLD_CURRENCY,
  World,
  type WorldParameters,
  worldParameters,
} from './simulate-world.ts';

const HOUR = 3_600_000;

export interface MonthProgress {
  /** 1-based. */
  readonly month: number;
  readonly months: number;
  readonly cancellations: number;
  readonly winBacks: number;
  /** Outcome events fed back this month. */
  readonly outcomes: number;
  readonly saved: number;
  /** Events the pipeline read this month. */
  readonly events: number;
  readonly ms: number;
}

export interface RunOptions {
  readonly policy: Policy;
  readonly world: WorldParameters;
  readonly customers: number;
  readonly months: number;
  /** Start of the first month, epoch ms. @default 2025-01-01T00:00:00Z */
  readonly start?: number;
  /** A directory for the pipe. */
  readonly dir: string;
  readonly onMonth?: (progress: MonthProgress) => void;
}

/** What one run of a policy in a world counted; the report of a run carries them as they are. */
export interface RunCounts {
  /** Every cancellation decided, judged. */
  readonly cases: readonly JudgedCase[];
  readonly cancellations: number;
  /** Cancellations the pipeline did not decide within their month; not judged, and the customer leaves. */
  readonly undecided: number;
  readonly winBacks: number;
  readonly saved: number;
  readonly outcomes: number;
  readonly events: number;
  readonly deadLetters: number;
  readonly wallMs: number;
}

export interface RunResult extends RunCounts {
  readonly evaluation: Evaluation;
}

let pipes = 0;

/**
 * The pipeline, running `replay` over a named pipe: `write` queues a line, `caughtUp`
 * sends what is queued and resolves once the pipeline has processed every line written.
 */
class PipedReplay {
  readonly #out: ReturnType<typeof createWriteStream>;
  readonly #done: Promise<ReplayResult>;
  readonly #path: string;
  #buffer: string[] = [];
  #written = 0;
  #processed = 0;
  #failed: unknown = null;
  #waiting: { lines: number; resolve: () => void; reject: (err: unknown) => void } | null = null;
  deadLetters = 0;

  constructor(dir: string, policy: Policy, onOutput: (topic: string, value: unknown) => void) {
    const path = join(dir, `pipeline-${process.pid}-${++pipes}.fifo`);
    execFileSync('mkfifo', [path]);
    this.#out = createWriteStream(path);
    const seen = (lines: number) => {
      this.#processed = Math.max(this.#processed, lines);
      this.#wake();
    };
    this.#done = replay(
      path,
      { policy, progressEvery: 1, onProgress: (lines) => seen(lines) },
      (record) => onOutput(record.topic, record.value),
      (_line, dead) => {
        this.deadLetters++;
        seen(dead.line);
      },
    );
    this.#done.then(
      () => this.#wake(),
      (err: unknown) => {
        this.#failed = err;
        this.#wake();
      },
    );
    this.#path = path;
  }

  #wake(): void {
    const w = this.#waiting;
    if (w === null) return;
    if (this.#failed !== null) {
      this.#waiting = null;
      w.reject(this.#failed);
    } else if (this.#processed >= w.lines) {
      this.#waiting = null;
      w.resolve();
    }
  }

  write(event: OfflineEvent): void {
    this.#buffer.push(formatLine(event));
    this.#written++;
  }

  async #flush(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const text = `${this.#buffer.join('\n')}\n`;
    this.#buffer = [];
    if (!this.#out.write(text)) await once(this.#out, 'drain');
  }

  async caughtUp(): Promise<void> {
    await this.#flush();
    await new Promise<void>((resolve, reject) => {
      this.#waiting = { lines: this.#written, resolve, reject };
      this.#wake();
    });
  }

  async end(): Promise<ReplayResult> {
    await this.#flush();
    this.#out.end();
    try {
      return await this.#done;
    } finally {
      rmSync(this.#path, { force: true });
    }
  }
}

/** One policy in one world, month by month through the real pipeline. */
export async function runSimulation(options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const { policy, months } = options;
  const truth = options.world;
  const world = new World(truth, {
    customers: options.customers,
    months,
    ...(options.start !== undefined ? { start: options.start } : {}),
  });
  const decisions = new Map<string, ChurnDecision>();
  const retentionTasks = new Map<string, ContactTask[]>();
  const pipeline = new PipedReplay(options.dir, policy, (topic, value) => {
    if (topic === 'churn.decisions.v1') {
      const d = value as ChurnDecision;
      decisions.set(d.causationId, d);
    } else if (topic === 'contact-center.tasks.v1') {
      const t = value as ContactTask;
      if (t.kind === 'RETENTION_CALL')
        retentionTasks.set(t.causationId, [...(retentionTasks.get(t.causationId) ?? []), t]);
    }
  });
  const cases: JudgedCase[] = [];
  const totals = { cancellations: 0, undecided: 0, winBacks: 0, saved: 0, outcomes: 0, events: 0 };
  try {
    for (let k = 0; k < months; k++) {
      const monthStarted = Date.now();
      const monthEnd = world.monthStart(k + 1);
      const cancellations = world.month(k);
      const byId = new Map(cancellations.map((c) => [c.eventId, c]));
      const awaiting: SimCancellation[] = [];
      const month = { winBacks: 0, saved: 0, outcomes: 0, events: 0 };
      let now = Number.NEGATIVE_INFINITY;
      let syncedDay = Number.NEGATIVE_INFINITY;
      // Each decided cancellation: judge the decision, draw its outcome from the truth and
      // schedule it a few days on, within the month.
      const settleDecided = () => {
        for (let i = 0; i < awaiting.length; ) {
          const c = awaiting[i] as SimCancellation;
          const decision = decisions.get(c.eventId);
          if (decision === undefined) {
            i++;
            continue;
          }
          awaiting.splice(i, 1);
          decisions.delete(c.eventId);
          const tasks = retentionTasks.get(c.eventId) ?? [];
          retentionTasks.delete(c.eventId);
          const choice = choiceOf(decision, tasks);
          const input = { reason: c.reason, cohort: c.cohort, trueMonthlyMargin: c.trueMonthlyMargin };
          cases.push({
            month: k,
            customerId: c.customerId,
            reason: c.reason,
            cohort: cohortKey(c.cohort),
            tier: decision.tier,
            choice,
            ...evaluateCase(policy, truth, { ...input, value: decision.value, choice }),
          });
          if (choice === null) {
            world.settle(c, false);
            continue;
          }
          month.winBacks++;
          const rng = world.outcomeRandom(c);
          const fate = drawFate(rng, trueSaveRate(truth, c.reason, choice, c.cohort), truth.noContactShare);
          const reported = Math.min(decision.occurredAt + rng.int(1, 5) * DAY + rng.int(0, 8) * HOUR, monthEnd - HOUR);
          for (const task of tasks) {
            const outcome: TaskOutcome = {
              eventId: rng.uuid(),
              occurredAt: Math.max(reported, task.occurredAt, now),
              taskId: task.taskId,
              customerId: c.customerId,
              outcome: outcomeKindOf(fate, choice),
              note: null,
            };
            world.schedule(c, outcome.occurredAt, {
              topic: 'contact-center.task-outcomes.v1',
              key: c.customerId,
              value: outcome,
            });
          }
          if (fate === 'SAVED') month.saved++;
          world.settle(c, fate === 'SAVED');
        }
      };
      for (let event = world.next(monthEnd); event !== undefined; event = world.next(monthEnd)) {
        pipeline.write(event);
        month.events++;
        now = (event.value as { occurredAt: number }).occurredAt;
        if (event.topic === 'contact-center.task-outcomes.v1') month.outcomes++;
        const c =
          event.topic === 'customer.cancellations.v1'
            ? byId.get((event.value as CancellationRequested).eventId)
            : undefined;
        if (c !== undefined) awaiting.push(c);
        // The decision comes out of the pipeline as the cancellation goes in, and the
        // outcome is drawn once it is known. Should a decision wait (for the day's
        // learning), look again at every new day.
        const day = Math.floor(now / DAY);
        if (c === undefined && (awaiting.length === 0 || day === syncedDay)) continue;
        syncedDay = day;
        await pipeline.caughtUp();
        settleDecided();
      }
      await pipeline.caughtUp();
      settleDecided();
      for (const c of awaiting) {
        totals.undecided++;
        world.settle(c, false);
      }
      totals.cancellations += cancellations.length;
      totals.winBacks += month.winBacks;
      totals.saved += month.saved;
      totals.outcomes += month.outcomes;
      totals.events += month.events;
      options.onMonth?.({
        month: k + 1,
        months,
        cancellations: cancellations.length,
        winBacks: month.winBacks,
        outcomes: month.outcomes,
        saved: month.saved,
        events: month.events,
        ms: Date.now() - monthStarted,
      });
    }
  } finally {
    await pipeline.end();
  }
  return {
    evaluation: evaluate(cases, months),
    cases,
    ...totals,
    deadLetters: pipeline.deadLetters,
    wallMs: Date.now() - started,
  };
}

export const SIMULATE_USAGE = `  churnctl simulate [--policy FILE ...] [--seed N ...] [--customers N] [--months M] [--json FILE]
      Evaluates policies in a synthetic world whose true save rates and churn differ
      from the policy's, drawn from the seed. Month by month the history goes through
      the whole pipeline under the policy; the outcomes of its retention tasks are
      drawn from the truth and fed back. Prints, per policy and seed, the share of an
      all-knowing oracle's expected value the policy kept over the early and the late
      third of the months, and the mean over the seeds. Defaults: policies/default.json,
      seed 1, 400 customers, 24 months. The first policy's priors anchor the world, so
      every policy meets the same world for a seed.
`;

export interface SimulateOptions {
  readonly policies: readonly { readonly file: string; readonly policy: Policy }[];
  readonly seeds: readonly number[];
  readonly customers: number;
  readonly months: number;
  readonly json: string | undefined;
}

function wholeNumber(text: string, flag: string, min: number, usage: (m: string) => Error): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw usage(`${flag} must be a whole number of at least ${min}, got ${text}`);
  return n;
}

export const SIMULATE_OPTIONS = {
  policy: { type: 'string', multiple: true },
  seed: { type: 'string', multiple: true },
  customers: { type: 'string' },
  months: { type: 'string' },
  json: { type: 'string' },
} as const;

/** `simulate`'s options as parseArgs read them. */
export interface SimulateValues {
  policy?: string[] | undefined;
  seed?: string[] | undefined;
  customers?: string | undefined;
  months?: string | undefined;
  json?: string | undefined;
}

/** Checks `simulate`'s options and reads its policies. `usage` makes the error for a bad command line. */
export function simulateArgs(values: SimulateValues, usage: (message: string) => Error): SimulateOptions {
  const files = values.policy ?? [DEFAULT_POLICY_FILE];
  const seeds = (values.seed ?? ['1']).map((s) => wholeNumber(s, '--seed', 0, usage));
  return {
    policies: files.map((file) => ({ file, policy: loadPolicy(readJsonFile(file)) })),
    seeds,
    customers: values.customers ? wholeNumber(values.customers, '--customers', 1, usage) : 400,
    months: values.months ? wholeNumber(values.months, '--months', 1, usage) : 24,
    json: values.json,
  };
}

/** The label of each policy: its version, with the file name when two policies share a version (and a number when that is not enough). */
function labels(policies: SimulateOptions['policies']): string[] {
  const named = policies.map((p) =>
    policies.filter((q) => q.policy.version === p.policy.version).length > 1
      ? `${p.policy.version} (${basename(p.file)})`
      : p.policy.version,
  );
  return named.map((n, i) => (named.filter((m) => m === n).length > 1 ? `${n} #${i + 1}` : n));
}

export interface RunReport extends RunCounts {
  readonly policy: string;
  readonly policyFile: string;
  readonly seed: number;
  readonly early: ShareOfValue;
  readonly late: ShareOfValue;
  readonly total: ShareOfValue;
  readonly byMonth: readonly ShareOfValue[];
}

export interface MeanReport {
  readonly policy: string;
  readonly seeds: number;
  readonly early: number | null;
  readonly late: number | null;
  readonly total: number | null;
  readonly wallMs: number;
}

export interface SimulateReport {
  readonly customers: number;
  readonly months: number;
  /** Months in each of the early and the late third. */
  readonly third: number;
  readonly currency: string;
  readonly worlds: readonly WorldSummary[];
  readonly runs: readonly RunReport[];
  readonly means: readonly MeanReport[];
}

/** What a world's truth looks like next to the reference policy. */
export interface WorldSummary {
  readonly seed: number;
  readonly referencePolicy: string;
  /** Reason/offer pairs of the reference policy whose true save rate (averaged over cohorts) is above / below its prior. */
  readonly pairsBetter: number;
  readonly pairsWorse: number;
  readonly hazardMin: number;
  readonly hazardMax: number;
  readonly policyChurnRate: number;
}

export function summariseWorld(world: WorldParameters): WorldSummary {
  let better = 0;
  let worse = 0;
  for (const pair of world.policyPairs) {
    const prior = world.priors[pair] as number;
    const rates = Object.entries(world.saveRates)
      .filter(([k]) => k.startsWith(`${pair}/`))
      .map(([, v]) => v);
    const mean = rates.reduce((s, r) => s + r, 0) / rates.length;
    if (mean > prior) better++;
    else if (mean < prior) worse++;
  }
  const hazards = Object.values(world.hazards);
  return {
    seed: world.seed,
    referencePolicy: world.referencePolicy,
    pairsBetter: better,
    pairsWorse: worse,
    hazardMin: Math.min(...hazards),
    hazardMax: Math.max(...hazards),
    policyChurnRate: world.policyChurnRate,
  };
}

const mean = (xs: readonly (number | null)[]): number | null => {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : known.reduce((s, x) => s + x, 0) / known.length;
};

/** Runs every policy in the world of every seed. */
export async function simulate(
  options: SimulateOptions,
  progress: (line: string) => void = () => {},
): Promise<SimulateReport> {
  const names = labels(options.policies);
  const reference = (options.policies[0] as SimulateOptions['policies'][number]).policy;
  const dir = mkdtempSync(join(tmpdir(), 'churn-simulate-'));
  const runs: RunReport[] = [];
  const worlds: WorldSummary[] = [];
  try {
    for (const seed of options.seeds) {
      const world = worldParameters(seed, reference);
      const summary = summariseWorld(world);
      worlds.push(summary);
      progress(
        `simulate: world ${seed}: ${summary.pairsBetter} reason/offer pairs save more than the policy assumes, ${summary.pairsWorse} less; true monthly churn ${pct(summary.hazardMin)} to ${pct(summary.hazardMax)} by cohort (policy ${pct(summary.policyChurnRate)})`,
      );
      for (const [i, { file, policy }] of options.policies.entries()) {
        const name = names[i] as string;
        const result = await runSimulation({
          policy,
          world,
          customers: options.customers,
          months: options.months,
          dir,
          onMonth: (m) =>
            progress(
              `simulate: ${name} seed ${seed}: month ${m.month} of ${m.months}: ${m.cancellations} cancellations, ${m.winBacks} win-backs, ${m.outcomes} outcomes fed back (${m.saved} saved); ${m.events} events in ${m.ms} ms`,
            ),
        });
        if (result.deadLetters > 0)
          progress(`simulate: ${name} seed ${seed}: the pipeline refused ${result.deadLetters} events (dead letters)`);
        const { evaluation, ...counts } = result;
        runs.push({
          policy: name,
          policyFile: file,
          seed,
          early: evaluation.early,
          late: evaluation.late,
          total: evaluation.total,
          byMonth: evaluation.byMonth,
          ...counts,
        });
        progress(`simulate: ${name} seed ${seed}: done in ${(result.wallMs / 1000).toFixed(1)} s`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const means = names.map((policy) => {
    const mine = runs.filter((r) => r.policy === policy);
    return {
      policy,
      seeds: mine.length,
      early: mean(mine.map((r) => r.early.share)),
      late: mean(mine.map((r) => r.late.share)),
      total: mean(mine.map((r) => r.total.share)),
      wallMs: mine.reduce((s, r) => s + r.wallMs, 0) / Math.max(1, mine.length),
    };
  });
  return {
    customers: options.customers,
    months: options.months,
    third: thirdOf(options.months),
    currency: WORLD_CURRENCY,
    worlds,
    runs,
    means,
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

const share = (x: number | null) => (x === null ? '-' : x.toFixed(3));
const money = (x: number) => Math.round(x).toLocaleString('en-US').replaceAll(',', ' ');
const same = (s: ShareOfValue) =>
  s.cancellations === 0 ? '-' : `${Math.round((100 * s.asGoodAsOracle) / s.cancellations)}%`;

/** The report as a table. */
export function formatReport(report: SimulateReport): string {
  const t = report.third;
  const early = `months 1-${t}`;
  const late = `months ${report.months - t + 1}-${report.months}`;
  const header = [
    'policy',
    'seed',
    'early',
    'late',
    'total',
    'as oracle early',
    'late',
    'cancellations',
    'win-backs',
    'saved',
    `oracle (${report.currency})`,
    `kept (${report.currency})`,
    'wall s',
  ];
  const rows: string[][] = [];
  for (const r of report.runs) {
    rows.push([
      r.policy,
      String(r.seed),
      share(r.early.share),
      share(r.late.share),
      share(r.total.share),
      same(r.early),
      same(r.late),
      String(r.cancellations),
      String(r.winBacks),
      String(r.saved),
      money(r.total.oracle),
      money(r.total.kept),
      (r.wallMs / 1000).toFixed(1),
    ]);
  }
  for (const m of report.means) {
    const blank = ['', '', '', '', '', '', ''];
    rows.push([
      m.policy,
      `mean of ${m.seeds}`,
      share(m.early),
      share(m.late),
      share(m.total),
      ...blank,
      (m.wallMs / 1000).toFixed(1),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return `${[
    `${report.customers} customers, ${report.months} months: the share of an all-knowing oracle's expected value each policy kept,`,
    `early (${early}), late (${late}) and in total; "as oracle": the share of cancellations decided as well as the oracle.`,
    line(header),
    ...rows.map(line),
  ].join('\n')}\n`;
}

/** `churnctl simulate` with its parsed options. */
export async function simulateCommand(values: SimulateValues, usage: (message: string) => Error): Promise<number> {
  const options = simulateArgs(values, usage);
  const report = await simulate(options, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(formatReport(report));
  if (options.json !== undefined) {
    await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`simulate: report written to ${options.json}\n`);
  }
  return 0;
}
