/**
 * The report behind `churnctl experiment report`: how the arms of a policy experiment
 * fared over one history. Pure: it takes what a replay decided (decisions and their
 * retention calls), the history's outcomes and customers, and returns a plain data
 * structure that the text report renders and `--json` writes as it is.
 *
 * - A decision belongs to the arm it records (`ChurnDecision.arm`); a decision without an
 *   arm of the experiment is counted in the totals only, as unassigned.
 * - An outcome counts for a decision when it closes the decision's retention call (the
 *   `RETENTION_CALL` task, `retentionTaskIdsOf(decision)[0]`; a decision that let the
 *   customer go made no call). The policy's `learning.savedOutcomes` are saves and
 *   `learning.lostOutcomes` losses, and both are tries; NO_CONTACT leaves the call open
 *   (not tried); any other outcome closes it without counting. The first outcome that
 *   closes a call is the one that counts.
 * - Save rate = saves / tries, with a 95% Wilson score interval. Against the first arm
 *   (the control): the difference of the save rates with a 95% interval (normal
 *   approximation of a difference of proportions).
 * - Value kept, per currency: for each saved call, the decision's
 *   `value.remainingLifetimeValue` less the cost of the offer the call brought (the arm
 *   policy's `offerCosts`, as `weighOffers` computes it). Contact costs are not taken
 *   off. The mean is over every decision of the arm in that currency (0 when not saved),
 *   with a 95% interval (normal approximation).
 */
import type {
  CancellationReason,
  ChurnDecision,
  CustomerValue,
  LearningSnapshot,
  Offer,
  TaskOutcome,
  TaskOutcomeKind,
} from '@churn/contracts';
import {
  armOf,
  formatMoney,
  minorUnitsOf,
  type Policy,
  retentionTaskIdsOf,
  type WeighableOffer,
  weighOffers,
} from '@churn/domain';
import type { RetentionCall } from './backtest.ts';
import { count, percent, table } from './backtest-report.ts';

/** The normal quantile of a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

/** Arms with fewer tries than this are too few to go by; the report says so. */
export const FEW_TRIES = 10;

export interface RateInterval {
  /** successes / trials. */
  rate: number;
  low: number;
  high: number;
}

/**
 * The Wilson score interval of a proportion: centre (p + z²/2n) / (1 + z²/n), half-width
 * z / (1 + z²/n) x sqrt(p(1 - p)/n + z²/4n²). Null without trials.
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): RateInterval | null {
  if (trials <= 0) return null;
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface MeanInterval {
  n: number;
  mean: number;
  /** mean -/+ z x s / sqrt(n), s the sample standard deviation; null with fewer than two values. */
  low: number | null;
  high: number | null;
}

/** The mean of `values` with a normal-approximation interval. */
export function meanInterval(values: readonly number[], z = Z_95): MeanInterval {
  const n = values.length;
  if (n === 0) return { n, mean: 0, low: null, high: null };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { n, mean, low: null, high: null };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const half = (z * Math.sqrt(variance)) / Math.sqrt(n);
  return { n, mean, low: mean - half, high: mean + half };
}

export interface DifferenceInterval {
  /** Rate of the arm minus rate of the control. */
  difference: number;
  low: number;
  high: number;
}

/**
 * The difference of two proportions, s1/n1 - s0/n0, with the normal-approximation
 * interval: -/+ z x sqrt(p1(1 - p1)/n1 + p0(1 - p0)/n0). Null when either has no trials.
 */
export function differenceInterval(
  s1: number,
  n1: number,
  s0: number,
  n0: number,
  z = Z_95,
): DifferenceInterval | null {
  if (n1 <= 0 || n0 <= 0) return null;
  const p1 = s1 / n1;
  const p0 = s0 / n0;
  const half = z * Math.sqrt((p1 * (1 - p1)) / n1 + (p0 * (1 - p0)) / n0);
  const difference = p1 - p0;
  return { difference, low: difference - half, high: difference + half };
}

/**
 * What an offer costs for a customer under a policy, minor units: the cost `weighOffers`
 * gives it for the reason, or, for an offer the reason's table does not give this customer
 * (a tier-A meeting brought when no offer pays), the same formula from `offerCosts`.
 * NONE and EXECUTIVE_ESCALATION cost nothing.
 */
export function offerCostOf(
  policy: Policy,
  value: CustomerValue,
  reason: CancellationReason | null,
  offer: Offer,
): number {
  if (offer === 'NONE' || offer === 'EXECUTIVE_ESCALATION') return 0;
  if (reason !== null) {
    const weighed = weighOffers(policy, value, reason).find((w) => w.offer === offer);
    if (weighed !== undefined) return weighed.cost;
  }
  const cost = policy.offerCosts[offer as WeighableOffer];
  if (cost.basis === 'fixed') return Math.round(cost.amount * minorUnitsOf(policy, value.currency));
  const total = cost.basis === 'margin' ? value.margin12m : value.revenue12m;
  return Math.round(((cost.share * cost.months) / policy.value.windowMonths) * total);
}

/** What one replay of the history decided, as the report needs it. */
export interface ExperimentRun {
  /** The policy file, for the report. */
  source: string;
  /** The policy with the experiment. */
  policy: Policy;
  decisions: readonly ChurnDecision[];
  retentionCalls: readonly RetentionCall[];
  /** The customers of the history (those with a profile), for the split of the population. */
  customers: readonly string[];
  /** The learning stage's last snapshot (partition 0), if the policy learns. */
  lastSnapshot: LearningSnapshot | null;
}

/** Facts about the history file, for the report's header. */
export interface HistoryFacts {
  file: string;
  lines: number;
  events: number;
  badLines: number;
}

export type CallResult = 'saved' | 'lost' | 'notReached' | 'closedUncounted' | 'noOutcome';

/** One decision, as the report counted it. */
export interface DecisionRow {
  /** The cancellation's eventId (the decision's causationId). */
  cancellation: string;
  customerId: string;
  occurredAt: number;
  arm: string | null;
  policyVersion: string;
  reason: CancellationReason | null;
  action: ChurnDecision['action'];
  offer: Offer;
  /** The offer the retention call brought; null without a call. */
  callOffer: Offer | null;
  result: CallResult | null;
  currency: string;
  /** Minor units. */
  remainingLifetimeValue: number;
  /** Cost of the offer the call brought, minor units; null without a call. */
  offerCost: number | null;
  /** remainingLifetimeValue - offerCost when saved, else 0. Minor units. */
  valueKept: number;
}

export interface Counts {
  /** Customers who cancelled (had a decision). */
  customers: number;
  decisions: number;
  winBacks: number;
  letGo: number;
  /** Retention calls made (one per win-back). */
  calls: number;
  /** Outcomes counted: saves + losses. */
  tries: number;
  saves: number;
  losses: number;
  /** NO_CONTACT outcomes (calls not reached; they stay open). */
  notReached: number;
  /** Outcomes that closed a call without counting (COMPLETED, ...). */
  closedUncounted: number;
}

export interface ValueKept {
  currency: string;
  /** Decisions of the arm in this currency. */
  decisions: number;
  saves: number;
  /** Minor units. */
  total: number;
  /** Per decision (0 when not saved), minor units, with its 95% interval. */
  mean: number;
  low: number | null;
  high: number | null;
}

export interface AgainstControl extends DifferenceInterval {
  /** The difference in plain words. */
  sentence: string;
}

export interface ArmReport extends Counts {
  arm: string;
  /** The arm's share of the customers, from the policy. */
  share: number;
  /** The version of the arm's policy, and every other version its decisions carry. */
  policyVersions: string[];
  /** Customers of the history the arm's hash puts in it (whether or not they cancelled). */
  customersInHistory: number;
  /** saves / tries with its 95% Wilson interval; null without tries. */
  saveRate: RateInterval | null;
  valueKept: ValueKept[];
  /** The difference of the save rate against the control; null for the control and without tries. */
  againstControl: AgainstControl | null;
  /** For an arm other than the control with too few outcomes to compare: why there is no difference. */
  againstControlSentence: string | null;
  /** What the learning stage's last snapshot counts for the arm (calls with a weighed offer only); null without one. */
  learned: { saves: number; tries: number } | null;
}

export interface ExperimentReport {
  experiment: string;
  policyVersion: string;
  policySource: string;
  history: HistoryFacts & {
    /** Outcomes in the history. */
    outcomes: number;
    /** Outcomes that belong to a retention call of the replay. */
    outcomesOfCalls: number;
    customers: number;
  };
  confidence: 0.95;
  arms: ArmReport[];
  totals: Counts & { customersInHistory: number };
  /** Decisions that carry no arm of the experiment (counted in the totals only). */
  unassigned: number;
  /** The midnight of the learning snapshot the `learned` tallies are as of; null without one. */
  learnedAsOf: number | null;
  /** Minor units per major unit of every currency in the report. */
  minorUnitsPerMajor: Record<string, number>;
  decisions: DecisionRow[];
}

function emptyCounts(): Counts {
  return {
    customers: 0,
    decisions: 0,
    winBacks: 0,
    letGo: 0,
    calls: 0,
    tries: 0,
    saves: 0,
    losses: 0,
    notReached: 0,
    closedUncounted: 0,
  };
}

function countRows(rows: readonly DecisionRow[]): Counts {
  const c = emptyCounts();
  c.customers = new Set(rows.map((r) => r.customerId)).size;
  for (const r of rows) {
    c.decisions++;
    if (r.action === 'WIN_BACK') c.winBacks++;
    else c.letGo++;
    if (r.callOffer !== null) c.calls++;
  }
  return c;
}

/** Points (of a percent), rounded: 0.123 → 12. */
const points = (x: number) => Math.round(Math.abs(x) * 100);

/**
 * The difference in plain words: `generous saves 12 points more than control, between 3
 * and 21 points more: unlikely to be chance (95% interval).`
 */
export function differenceSentence(arm: string, control: string, d: DifferenceInterval, fewest: number): string {
  const head =
    points(d.difference) === 0
      ? `${arm} saves about as many as ${control} (a difference of ${(d.difference * 100).toFixed(1)} points)`
      : `${arm} saves ${points(d.difference)} points ${d.difference > 0 ? 'more' : 'fewer'} than ${control}`;
  const range =
    d.low >= 0
      ? `between ${points(d.low)} and ${points(d.high)} points more`
      : d.high <= 0
        ? `between ${points(d.high)} and ${points(d.low)} points fewer`
        : `between ${points(d.low)} points fewer and ${points(d.high)} more`;
  const verdict =
    d.low > 0 || d.high < 0
      ? 'unlikely to be chance (95% interval)'
      : 'could be chance (the 95% interval includes no difference); more outcomes are needed to tell';
  const few = fewest < FEW_TRIES ? ` Fewer than ${FEW_TRIES} outcomes in an arm: too few to go by.` : '';
  return `${head}, ${range}: ${verdict}.${few}`;
}

/** Builds the report from one replay of the history and the history's outcomes (in file order). */
export function experimentReport(
  run: ExperimentRun,
  outcomes: readonly TaskOutcome[],
  history: HistoryFacts,
): ExperimentReport {
  const experiment = run.policy.experiment;
  if (experiment === null) throw new Error(`the policy ${run.policy.version} defines no experiment`);
  const armPolicies = new Map(run.policy.tables.arms.map((a) => [a.name, a.policy]));

  // Decisions by cancellation (the first wins), and the main retention call of each.
  const decisions = new Map<string, ChurnDecision>();
  for (const d of run.decisions) if (!decisions.has(d.causationId)) decisions.set(d.causationId, d);
  const calls = new Map(run.retentionCalls.map((c) => [c.taskId, c]));
  const callOf = new Map<string, { cancellation: string; offer: Offer }>();
  for (const d of decisions.values()) {
    const main = retentionTaskIdsOf(d)[0] as string;
    const call = calls.get(main);
    if (call !== undefined) callOf.set(main, { cancellation: d.causationId, offer: call.offer });
  }

  // Outcomes, in file order: the first that closes a call counts.
  const results = new Map<string, CallResult>();
  let outcomesOfCalls = 0;
  const savedKinds = run.policy.tables.savedOutcomes;
  const lostKinds = run.policy.tables.lostOutcomes;
  const resultOf = (kind: TaskOutcomeKind): CallResult =>
    savedKinds.has(kind)
      ? 'saved'
      : lostKinds.has(kind)
        ? 'lost'
        : kind === 'NO_CONTACT'
          ? 'notReached'
          : 'closedUncounted';
  const notReached = new Map<string, number>();
  for (const o of outcomes) {
    const call = callOf.get(o.taskId);
    if (call === undefined) continue;
    outcomesOfCalls++;
    const known = results.get(call.cancellation);
    if (known !== undefined && known !== 'notReached') continue;
    const result = resultOf(o.outcome);
    if (result === 'notReached') notReached.set(call.cancellation, (notReached.get(call.cancellation) ?? 0) + 1);
    results.set(call.cancellation, result);
  }

  const rows: DecisionRow[] = [];
  for (const d of decisions.values()) {
    const main = retentionTaskIdsOf(d)[0] as string;
    const call = callOf.get(main) ?? null;
    const armPolicy = (d.arm !== null ? armPolicies.get(d.arm) : undefined) ?? run.policy;
    const offerCost = call === null ? null : offerCostOf(armPolicy, d.value, d.reason, call.offer);
    const result = call === null ? null : (results.get(d.causationId) ?? 'noOutcome');
    rows.push({
      cancellation: d.causationId,
      customerId: d.customerId,
      occurredAt: d.occurredAt,
      arm: d.arm ?? null,
      policyVersion: d.policyVersion,
      reason: d.reason,
      action: d.action,
      offer: d.offer,
      callOffer: call?.offer ?? null,
      result,
      currency: d.value.currency,
      remainingLifetimeValue: d.value.remainingLifetimeValue,
      offerCost,
      valueKept: result === 'saved' ? d.value.remainingLifetimeValue - (offerCost ?? 0) : 0,
    });
  }

  const tally = (subset: readonly DecisionRow[]): Counts => {
    const c = countRows(subset);
    for (const r of subset) {
      if (r.result === 'saved') c.saves++;
      else if (r.result === 'lost') c.losses++;
      else if (r.result === 'closedUncounted') c.closedUncounted++;
      c.notReached += notReached.get(r.cancellation) ?? 0;
    }
    c.tries = c.saves + c.losses;
    return c;
  };

  const population = new Map<string, number>();
  const customers = [...new Set(run.customers)];
  for (const id of customers) {
    const arm = armOf(run.policy, id)?.name;
    if (arm !== undefined) population.set(arm, (population.get(arm) ?? 0) + 1);
  }

  const currencies = new Set<string>();
  const arms: ArmReport[] = experiment.arms.map((spec) => {
    const own = rows.filter((r) => r.arm === spec.name);
    const counts = tally(own);
    const byCurrency = new Map<string, DecisionRow[]>();
    for (const r of own) {
      currencies.add(r.currency);
      const list = byCurrency.get(r.currency);
      if (list === undefined) byCurrency.set(r.currency, [r]);
      else list.push(r);
    }
    const valueKept: ValueKept[] = [...byCurrency]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, list]) => {
        const m = meanInterval(list.map((r) => r.valueKept));
        return {
          currency,
          decisions: list.length,
          saves: list.filter((r) => r.result === 'saved').length,
          total: list.reduce((s, r) => s + r.valueKept, 0),
          mean: m.mean,
          low: m.low,
          high: m.high,
        };
      });
    const armPolicy = armPolicies.get(spec.name) ?? run.policy;
    const learned = run.lastSnapshot?.arms.find((a) => a.arm === spec.name);
    return {
      arm: spec.name,
      share: spec.share,
      policyVersions: [...new Set([armPolicy.version, ...own.map((r) => r.policyVersion)])],
      customersInHistory: population.get(spec.name) ?? 0,
      ...counts,
      saveRate: wilsonInterval(counts.saves, counts.tries),
      valueKept,
      againstControl: null,
      againstControlSentence: null,
      learned:
        run.lastSnapshot === null ? null : { saves: Number(learned?.saves ?? 0), tries: Number(learned?.tries ?? 0) },
    };
  });

  const control = arms[0] as ArmReport;
  for (const arm of arms.slice(1)) {
    const d = differenceInterval(arm.saves, arm.tries, control.saves, control.tries);
    if (d === null) {
      arm.againstControlSentence = `${arm.arm} against ${control.arm}: no outcomes to compare yet (${arm.tries} and ${control.tries} tries).`;
      continue;
    }
    const sentence = differenceSentence(arm.arm, control.arm, d, Math.min(arm.tries, control.tries));
    arm.againstControl = { ...d, sentence };
    arm.againstControlSentence = sentence;
  }

  const armNames = new Set(arms.map((a) => a.arm));
  const minorUnitsPerMajor: Record<string, number> = {};
  for (const r of rows) currencies.add(r.currency);
  for (const currency of [...currencies].sort()) minorUnitsPerMajor[currency] = minorUnitsOf(run.policy, currency);

  return {
    experiment: experiment.name,
    policyVersion: run.policy.version,
    policySource: run.source,
    history: { ...history, outcomes: outcomes.length, outcomesOfCalls, customers: customers.length },
    confidence: 0.95,
    arms,
    totals: { ...tally(rows), customersInHistory: customers.length },
    unassigned: rows.filter((r) => r.arm === null || !armNames.has(r.arm)).length,
    learnedAsOf: run.lastSnapshot?.occurredAt ?? null,
    minorUnitsPerMajor,
    decisions: rows.sort((a, b) => a.occurredAt - b.occurredAt || a.cancellation.localeCompare(b.cancellation)),
  };
}

// ------------------------------------------------------------------ the text report

function rateText(r: RateInterval | null): string {
  if (r === null) return '-';
  return `${percent(r.rate)} (${percent(r.low)}-${percent(r.high)})`;
}

/** The readable text report (stdout of `churnctl experiment report`). */
export function renderExperimentText(report: ExperimentReport): string {
  const money = (minor: number, currency: string) =>
    formatMoney(minor, currency, report.minorUnitsPerMajor[currency] ?? 100);
  const h = report.history;
  const out: string[] = [
    `Experiment ${report.experiment} over ${h.file}: ${count(h.events)} events, ${count(h.badLines)} bad lines, ${count(h.customers)} customers, ${count(h.outcomes)} outcomes`,
    `  Policy ${report.policyVersion} (${report.policySource})`,
    '',
  ];
  const t = report.totals;
  out.push(
    table(
      [
        'Arm',
        'Share',
        'Policy',
        'Customers',
        'Cancelled',
        'Decisions',
        'Win back',
        'Tries',
        'Saves',
        'Save rate (95% interval)',
      ],
      [
        ...report.arms.map((a) => [
          a.arm,
          percent(a.share),
          a.policyVersions.join(', '),
          count(a.customersInHistory),
          count(a.customers),
          count(a.decisions),
          count(a.winBacks),
          count(a.tries),
          count(a.saves),
          rateText(a.saveRate),
        ]),
        [
          'All',
          '',
          '',
          count(t.customersInHistory),
          count(t.customers),
          count(t.decisions),
          count(t.winBacks),
          count(t.tries),
          count(t.saves),
          rateText(wilsonInterval(t.saves, t.tries)),
        ],
      ],
      ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push(
    '  Customers: in the history, by the arm their id hashes to. Cancelled: of those, the customers with a decision.',
    '  Tries: retention calls with a saved or lost outcome; not reached (NO_CONTACT) and other outcomes are not tries.',
  );
  if (report.unassigned > 0)
    out.push(`  ${count(report.unassigned)} decisions carry no arm of the experiment: counted under All only.`);
  out.push('');

  out.push('Against the control (difference in save rate, 95% interval)');
  const others = report.arms.slice(1);
  for (const a of others) out.push(`  ${a.againstControlSentence ?? ''}`);
  out.push('');

  out.push("Value kept (money in major units): each saved customer's remaining lifetime value less the offer's cost");
  const valueRows: string[][] = [];
  for (const a of report.arms) {
    a.valueKept.forEach((v, i) => {
      valueRows.push([
        i === 0 ? a.arm : '',
        v.currency,
        count(v.decisions),
        count(v.saves),
        money(v.total, v.currency),
        money(v.mean, v.currency),
        v.low === null || v.high === null ? '-' : `${money(v.low, v.currency)} to ${money(v.high, v.currency)}`,
      ]);
    });
  }
  out.push(
    valueRows.length === 0
      ? '  No decisions.'
      : table(['Arm', 'Currency', 'Decisions', 'Saved', 'Total kept', 'Mean per decision', '95% interval'], valueRows, [
          'l',
          'l',
          'r',
          'r',
          'r',
          'r',
          'r',
        ]),
    '  The mean is over every decision of the arm (0 when not saved or let go). Contact costs are not taken off.',
  );

  if (report.learnedAsOf !== null) {
    out.push(
      '',
      `The learning stage's own tally as of ${new Date(report.learnedAsOf).toISOString().slice(0, 10)} (calls with a weighed offer, outcomes before that midnight):`,
      `  ${report.arms.map((a) => `${a.arm} ${a.learned?.saves ?? 0} saved of ${a.learned?.tries ?? 0}`).join(', ')}`,
    );
  }
  return `${out.join('\n')}\n`;
}
