/**
 * The comparison behind `churnctl backtest`: two policies' decisions over the same
 * history, side by side. Pure: it takes what two replays decided (decisions and their
 * retention calls) and the outcomes the history holds, and returns a plain data
 * structure that the text and HTML reports render and `--json` writes as it is.
 *
 * - A cancellation is the same in both runs when its decision has the same `causationId`
 *   (the cancellation's eventId). Its decisions differ when the action, the offer or the
 *   expected value differ, or when only one run decided it.
 * - Value at stake, per policy, per reason and per currency: the expected value of the
 *   offers chosen, and the remaining lifetime value of the customers we try to win back
 *   and of those we let go (each decision's `value.remainingLifetimeValue`).
 * - Save rates per reason and offer: the policy's prior probability against the rate
 *   observed in the history. An outcome counts for a policy when its task is one of that
 *   policy's retention calls (task ids derive from the cancellation, see
 *   `retentionTaskIdsOf`), and is credited to the decision's reason and the offer the call
 *   carries. The policy's `learning.savedOutcomes` are saves and `learning.lostOutcomes`
 *   losses; NO_CONTACT leaves the call open (not tried); any other outcome closes it
 *   without counting. The first outcome that closes a call is the one that counts.
 */
import {
  CancellationReasonValues,
  type ChurnDecision,
  type ContactTask,
  type DecisionAction,
  type Offer,
  OfferValues,
  type TaskOutcome,
  type TaskOutcomeKind,
} from '@churn/contracts';
import { minorUnitsOf, type Policy, retentionTaskIdsOf } from '@churn/domain';
import type { OutputRecord } from '@churn/runtime';

export type PolicyLabel = 'A' | 'B';

/** A decision's cancellation reason; `NOT_RECORDED` for a decision that carries none. */
export type ReasonKey = NonNullable<ChurnDecision['reason']> | 'NOT_RECORDED';

/** A retention call a run created: its id, the cancellation it answers, the offer it brings. */
export interface RetentionCall {
  taskId: string;
  causationId: string;
  offer: Offer;
}

/** What one replay decided, as the comparison needs it. */
export interface PolicyRun {
  /** Where the policy came from (a file path), for the report. */
  source: string;
  policy: Policy;
  decisions: ChurnDecision[];
  retentionCalls: RetentionCall[];
  /** Lines of the history that could not be processed in this run. */
  badLines: number;
}

/** Keeps, from a replay's outputs, what the comparison needs: decisions and retention calls. */
export class RunCollector {
  readonly decisions: ChurnDecision[] = [];
  readonly retentionCalls: RetentionCall[] = [];

  add(record: OutputRecord): void {
    if (record.topic === 'churn.decisions.v1') {
      this.decisions.push(record.value as ChurnDecision);
    } else if (record.topic === 'contact-center.tasks.v1') {
      const task = record.value as ContactTask;
      if (task.kind === 'RETENTION_CALL')
        this.retentionCalls.push({ taskId: task.taskId, causationId: task.causationId, offer: task.offer });
    }
  }
}

/** Facts about the history file, for the report's header. */
export interface HistoryFacts {
  file: string;
  lines: number;
  events: number;
  badLines: number;
  outcomes: number;
}

/** Money per currency, minor units. */
export interface MoneyTotals {
  currency: string;
  decisions: number;
  /** Sum of the expected value of the offers chosen. */
  expectedValue: number;
  /** Remaining lifetime value of the customers we try to win back (WIN_BACK). */
  winBackLifetimeValue: number;
  /** Remaining lifetime value of the customers we let go (GRACEFUL_OFFBOARDING). */
  letGoLifetimeValue: number;
}

export interface ReasonTotals {
  reason: ReasonKey;
  decisions: number;
  winBack: number;
  letGo: number;
  totals: MoneyTotals[];
}

/** What a policy's decisions used for one reason and offer, from `offersWeighed`. */
export interface ProbabilityUsed {
  /** Decisions that weighed the offer. */
  decisions: number;
  mean: number;
  min: number;
  max: number;
  /** Mean of the `prior` the decisions carry, when they carry one (newer decisions). */
  meanPrior: number | null;
  /** The tally the last decision carrying one (with at least one try) was made with (newer decisions). */
  lastObserved: { saves: number; tries: number } | null;
}

export interface SaveRateRow {
  reason: ReasonKey;
  offer: Offer;
  /** The policy's probability for this reason and offer (its offers table); null when the table has none. */
  prior: number | null;
  saves: number;
  losses: number;
  /** saves + losses. */
  tries: number;
  /** saves / tries; null with no tries. */
  observed: number | null;
  /** NO_CONTACT outcomes: the customer was not reached. */
  noContact: number;
  /** Outcomes that closed the call without counting (COMPLETED, ...). */
  other: number;
  used: ProbabilityUsed | null;
}

export interface OutcomeCounts {
  /** Outcomes in the history. */
  total: number;
  /** Outcomes of this policy's retention calls. */
  matched: number;
  saves: number;
  losses: number;
  noContact: number;
  other: number;
  /** Outcomes of no retention call of this policy (the policy would not have called). */
  notMatched: number;
  /** Outcomes of a call an earlier outcome had already closed. */
  afterClosed: number;
}

export interface PolicySummary {
  label: PolicyLabel;
  version: string;
  source: string;
  badLines: number;
  decisions: number;
  winBack: number;
  letGo: number;
  totals: MoneyTotals[];
  byReason: ReasonTotals[];
  saveRates: SaveRateRow[];
  outcomes: OutcomeCounts;
}

/** One side of a decision that differs. */
export interface DecisionSide {
  action: DecisionAction;
  offer: Offer;
  /** The offer the retention call brings (for a tier-A escalation, the offer beneath it); null without a call. */
  callOffer: Offer | null;
  /** Minor units. */
  expectedValue: number;
  /** The save probability used for the offer, when the decision weighed it. */
  probability: number | null;
  tier: ChurnDecision['tier'];
}

export type Change = 'action' | 'offer' | 'expectedValue' | 'onlyInA' | 'onlyInB';

export interface DecisionDifference {
  /** The cancellation's eventId (the decisions' causationId). */
  cancellation: string;
  cancellationId: string;
  customerId: string;
  occurredAt: number;
  reason: ReasonKey;
  currency: string;
  remainingLifetimeValue: number;
  changed: Change[];
  a: DecisionSide | null;
  b: DecisionSide | null;
  /** B's expected value minus A's (a missing side counts as 0). Minor units. */
  expectedValueDelta: number;
  /** The first outcome in the history of this cancellation's retention call, if any. */
  outcome: TaskOutcomeKind | null;
}

export interface BacktestComparison {
  history: HistoryFacts;
  policies: [PolicySummary, PolicySummary];
  /** Cancellations decided by either run. */
  cancellations: number;
  /** Decisions that differ, largest difference in expected value first. */
  differences: DecisionDifference[];
  /**
   * Outcomes credited to different offers under A and B: the cancellation's calls
   * carry different offers (or only one policy calls).
   */
  outcomesCreditedDifferently: number;
  /** Minor units per major unit for every currency in the comparison (policy A's table). */
  minorUnitsPerMajor: Record<string, number>;
}

export interface CompareOptions {
  history: Omit<HistoryFacts, 'outcomes'>;
}

interface Credited {
  decision: ChurnDecision;
  offer: Offer;
}

/** Reasons and offers in the contracts' order (reasons first, then a decision with none recorded). */
const REASON_ORDER: readonly ReasonKey[] = [...CancellationReasonValues, 'NOT_RECORDED'];
const OFFER_ORDER: readonly Offer[] = OfferValues;

export function reasonOf(decision: Pick<ChurnDecision, 'reason'>): ReasonKey {
  return decision.reason ?? 'NOT_RECORDED';
}

export function compareReasons(a: ReasonKey, b: ReasonKey): number {
  return REASON_ORDER.indexOf(a) - REASON_ORDER.indexOf(b);
}

export function compareOffers(a: Offer, b: Offer): number {
  return OFFER_ORDER.indexOf(a) - OFFER_ORDER.indexOf(b);
}

/** Decisions by cancellation; the first one wins when a run decided a cancellation twice. */
function byCancellation(decisions: readonly ChurnDecision[]): Map<string, ChurnDecision> {
  const map = new Map<string, ChurnDecision>();
  for (const d of decisions) if (!map.has(d.causationId)) map.set(d.causationId, d);
  return map;
}

/** The retention calls of a run, by task id, with the decision each answers. */
function callsOf(run: PolicyRun, decisions: Map<string, ChurnDecision>): Map<string, Credited> {
  const calls = new Map(run.retentionCalls.map((c) => [c.taskId, c]));
  const out = new Map<string, Credited>();
  for (const decision of decisions.values()) {
    for (const taskId of retentionTaskIdsOf(decision)) {
      const call = calls.get(taskId);
      if (call !== undefined) out.set(taskId, { decision, offer: call.offer });
    }
  }
  return out;
}

function emptyTotals(currency: string): MoneyTotals {
  return { currency, decisions: 0, expectedValue: 0, winBackLifetimeValue: 0, letGoLifetimeValue: 0 };
}

function addTo(map: Map<string, MoneyTotals>, d: ChurnDecision): void {
  const currency = d.value.currency;
  let t = map.get(currency);
  if (t === undefined) {
    t = emptyTotals(currency);
    map.set(currency, t);
  }
  t.decisions++;
  t.expectedValue += d.expectedValue;
  if (d.action === 'WIN_BACK') t.winBackLifetimeValue += d.value.remainingLifetimeValue;
  else t.letGoLifetimeValue += d.value.remainingLifetimeValue;
}

const sortedTotals = (map: Map<string, MoneyTotals>) =>
  [...map.values()].sort((a, b) => a.currency.localeCompare(b.currency));

/** The optional fields a newer decision schema adds to each weighed offer. */
interface WeighedWithLearning {
  offer: Offer;
  probability: number;
  prior?: number | null;
  observedSaves?: number | null;
  observedTries?: number | null;
}

function probabilitiesUsed(decisions: Iterable<ChurnDecision>): Map<string, ProbabilityUsed> {
  interface Acc {
    n: number;
    sum: number;
    min: number;
    max: number;
    priorN: number;
    priorSum: number;
    lastObserved: { saves: number; tries: number } | null;
  }
  const acc = new Map<string, Acc>();
  for (const d of decisions) {
    for (const w of d.offersWeighed as WeighedWithLearning[]) {
      const key = `${reasonOf(d)}/${w.offer}`;
      let a = acc.get(key);
      if (a === undefined) {
        a = { n: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: 0, priorN: 0, priorSum: 0, lastObserved: null };
        acc.set(key, a);
      }
      a.n++;
      a.sum += w.probability;
      a.min = Math.min(a.min, w.probability);
      a.max = Math.max(a.max, w.probability);
      if (typeof w.prior === 'number') {
        a.priorN++;
        a.priorSum += w.prior;
      }
      if (typeof w.observedSaves === 'number' && typeof w.observedTries === 'number' && w.observedTries > 0)
        a.lastObserved = { saves: w.observedSaves, tries: w.observedTries };
    }
  }
  const out = new Map<string, ProbabilityUsed>();
  for (const [key, a] of acc) {
    out.set(key, {
      decisions: a.n,
      mean: a.sum / a.n,
      min: a.min,
      max: a.max,
      meanPrior: a.priorN > 0 ? a.priorSum / a.priorN : null,
      lastObserved: a.lastObserved,
    });
  }
  return out;
}

interface Tally {
  saves: number;
  losses: number;
  noContact: number;
  other: number;
}

/** Credits the history's outcomes to one policy's retention calls. */
function creditOutcomes(
  policy: Policy,
  calls: Map<string, Credited>,
  outcomes: readonly TaskOutcome[],
): { counts: OutcomeCounts; tallies: Map<string, Tally>; firstOutcome: Map<string, TaskOutcomeKind> } {
  const counts: OutcomeCounts = {
    total: outcomes.length,
    matched: 0,
    saves: 0,
    losses: 0,
    noContact: 0,
    other: 0,
    notMatched: 0,
    afterClosed: 0,
  };
  const tallies = new Map<string, Tally>();
  const closed = new Set<string>();
  const firstOutcome = new Map<string, TaskOutcomeKind>();
  for (const o of outcomes) {
    const call = calls.get(o.taskId);
    if (call === undefined) {
      counts.notMatched++;
      continue;
    }
    counts.matched++;
    if (closed.has(o.taskId)) {
      counts.afterClosed++;
      continue;
    }
    const cancellation = call.decision.causationId;
    if (!firstOutcome.has(cancellation) || firstOutcome.get(cancellation) === 'NO_CONTACT')
      firstOutcome.set(cancellation, o.outcome);
    const key = `${reasonOf(call.decision)}/${call.offer}`;
    let t = tallies.get(key);
    if (t === undefined) {
      t = { saves: 0, losses: 0, noContact: 0, other: 0 };
      tallies.set(key, t);
    }
    if (policy.tables.savedOutcomes.has(o.outcome)) {
      t.saves++;
      counts.saves++;
      closed.add(o.taskId);
    } else if (policy.tables.lostOutcomes.has(o.outcome)) {
      t.losses++;
      counts.losses++;
      closed.add(o.taskId);
    } else if (o.outcome === 'NO_CONTACT') {
      t.noContact++;
      counts.noContact++;
    } else {
      t.other++;
      counts.other++;
      closed.add(o.taskId);
    }
  }
  return { counts, tallies, firstOutcome };
}

function priorOf(policy: Policy, reason: ReasonKey, offer: Offer): number | null {
  if (reason === 'NOT_RECORDED') return null;
  return policy.tables.offersByReason[reason].find((o) => o.offer === offer)?.probability ?? null;
}

function saveRatesOf(
  policy: Policy,
  tallies: Map<string, Tally>,
  used: Map<string, ProbabilityUsed>,
  decidedReasons: ReadonlySet<ReasonKey>,
): SaveRateRow[] {
  const keys = new Set<string>([...tallies.keys(), ...used.keys()]);
  // Every offer of the policy's table for the reasons decided, even when nothing was
  // weighed or observed: the table shows what the policy assumes.
  for (const reason of decidedReasons) {
    if (reason === 'NOT_RECORDED') continue;
    for (const o of policy.tables.offersByReason[reason]) keys.add(`${reason}/${o.offer}`);
  }
  const rows: SaveRateRow[] = [];
  for (const key of keys) {
    const [reason, offer] = key.split('/') as [ReasonKey, Offer];
    const t = tallies.get(key) ?? { saves: 0, losses: 0, noContact: 0, other: 0 };
    const tries = t.saves + t.losses;
    rows.push({
      reason,
      offer,
      prior: priorOf(policy, reason, offer),
      saves: t.saves,
      losses: t.losses,
      tries,
      observed: tries > 0 ? t.saves / tries : null,
      noContact: t.noContact,
      other: t.other,
      used: used.get(key) ?? null,
    });
  }
  return rows.sort((x, y) => compareReasons(x.reason, y.reason) || compareOffers(x.offer, y.offer));
}

function summarise(
  label: PolicyLabel,
  run: PolicyRun,
  decisions: Map<string, ChurnDecision>,
  credited: ReturnType<typeof creditOutcomes>,
): PolicySummary {
  const totals = new Map<string, MoneyTotals>();
  const reasons = new Map<
    ReasonKey,
    { decisions: number; winBack: number; letGo: number; totals: Map<string, MoneyTotals> }
  >();
  let winBack = 0;
  for (const d of decisions.values()) {
    addTo(totals, d);
    const reason = reasonOf(d);
    let r = reasons.get(reason);
    if (r === undefined) {
      r = { decisions: 0, winBack: 0, letGo: 0, totals: new Map() };
      reasons.set(reason, r);
    }
    r.decisions++;
    if (d.action === 'WIN_BACK') {
      r.winBack++;
      winBack++;
    } else r.letGo++;
    addTo(r.totals, d);
  }
  return {
    label,
    version: run.policy.version,
    source: run.source,
    badLines: run.badLines,
    decisions: decisions.size,
    winBack,
    letGo: decisions.size - winBack,
    totals: sortedTotals(totals),
    byReason: [...reasons]
      .sort((x, y) => compareReasons(x[0], y[0]))
      .map(([reason, r]) => ({
        reason,
        decisions: r.decisions,
        winBack: r.winBack,
        letGo: r.letGo,
        totals: sortedTotals(r.totals),
      })),
    saveRates: saveRatesOf(
      run.policy,
      credited.tallies,
      probabilitiesUsed(decisions.values()),
      new Set(reasons.keys()),
    ),
    outcomes: credited.counts,
  };
}

function sideOf(d: ChurnDecision | undefined, calls: Map<string, Credited>): DecisionSide | null {
  if (d === undefined) return null;
  const [main, escalation] = retentionTaskIdsOf(d);
  const callOffer = calls.get(main as string)?.offer ?? calls.get(escalation as string)?.offer ?? null;
  const weighed = (offer: Offer | null) => d.offersWeighed.find((w) => w.offer === offer)?.probability;
  return {
    action: d.action,
    offer: d.offer,
    callOffer,
    expectedValue: d.expectedValue,
    probability: weighed(d.offer) ?? weighed(callOffer) ?? null,
    tier: d.tier,
  };
}

/** Compares two runs over the same history with the history's outcomes (in file order). */
export function compareRuns(
  runA: PolicyRun,
  runB: PolicyRun,
  outcomes: readonly TaskOutcome[],
  options: CompareOptions,
): BacktestComparison {
  const decisionsA = byCancellation(runA.decisions);
  const decisionsB = byCancellation(runB.decisions);
  const callsA = callsOf(runA, decisionsA);
  const callsB = callsOf(runB, decisionsB);
  const creditedA = creditOutcomes(runA.policy, callsA, outcomes);
  const creditedB = creditOutcomes(runB.policy, callsB, outcomes);

  const cancellations = new Set([...decisionsA.keys(), ...decisionsB.keys()]);
  const differences: DecisionDifference[] = [];
  const currencies = new Set<string>();
  for (const id of cancellations) {
    const a = decisionsA.get(id);
    const b = decisionsB.get(id);
    const either = (a ?? b) as ChurnDecision;
    currencies.add(either.value.currency);
    if (b) currencies.add(b.value.currency);
    const changed: Change[] = [];
    if (a === undefined) changed.push('onlyInB');
    else if (b === undefined) changed.push('onlyInA');
    else {
      if (a.action !== b.action) changed.push('action');
      if (a.offer !== b.offer) changed.push('offer');
      if (a.expectedValue !== b.expectedValue) changed.push('expectedValue');
    }
    if (changed.length === 0) continue;
    differences.push({
      cancellation: id,
      cancellationId: either.cancellationId,
      customerId: either.customerId,
      occurredAt: either.occurredAt,
      reason: reasonOf(either),
      currency: either.value.currency,
      remainingLifetimeValue: either.value.remainingLifetimeValue,
      changed,
      a: sideOf(a, callsA),
      b: sideOf(b, callsB),
      expectedValueDelta: (b?.expectedValue ?? 0) - (a?.expectedValue ?? 0),
      outcome: creditedA.firstOutcome.get(id) ?? creditedB.firstOutcome.get(id) ?? null,
    });
  }
  differences.sort(
    (x, y) =>
      Math.abs(y.expectedValueDelta) - Math.abs(x.expectedValueDelta) ||
      x.occurredAt - y.occurredAt ||
      x.cancellation.localeCompare(y.cancellation),
  );

  // An outcome is credited differently when its call is A's and B's with different offers,
  // or only one of them calls.
  let outcomesCreditedDifferently = 0;
  for (const o of outcomes) {
    const a = callsA.get(o.taskId);
    const b = callsB.get(o.taskId);
    if ((a === undefined) !== (b === undefined) || (a !== undefined && b !== undefined && a.offer !== b.offer))
      outcomesCreditedDifferently++;
  }

  const minorUnitsPerMajor: Record<string, number> = {};
  for (const currency of [...currencies].sort()) minorUnitsPerMajor[currency] = minorUnitsOf(runA.policy, currency);

  return {
    history: { ...options.history, outcomes: outcomes.length },
    policies: [summarise('A', runA, decisionsA, creditedA), summarise('B', runB, decisionsB, creditedB)],
    cancellations: cancellations.size,
    differences,
    outcomesCreditedDifferently,
    minorUnitsPerMajor,
  };
}
