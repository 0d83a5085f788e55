/**
 * Learning from what happens (docs/policy.md, "Outcomes and learning"): the save rate of
 * each reason and offer, how each cohort of customers responds to offers, and how fast
 * each cohort leaves, all learned from the stream with the policy's numbers as priors.
 *
 * Three parts, each deterministic:
 * - Per customer, the decision processor says what the learning stage needs: when the
 *   customer moves between cohorts at risk, when it cancels, and what came of its
 *   retention task ({@link cohortChange}, {@link cancellationEvents}, {@link outcomeEvents}).
 * - Across partitions, {@link learnAcrossPartitions} (one partition, like the structural
 *   count) takes those events in event-time order once every decision partition has
 *   passed their time (the watermarks each partition sends at every midnight), and at
 *   each midnight D publishes what it knows of everything before D: a
 *   {@link LearningSnapshot}, one per decision partition.
 * - A decision on day D uses the snapshot of D ({@link modelOf}): the priors blended with
 *   the evidence as Beta-Binomial (save rates) and Gamma-Poisson (hazards, cohort
 *   multipliers) pseudo-counts whose strengths are policy values. A decision therefore
 *   never changes when later outcomes arrive, and replay and Kafka agree.
 */
import type {
  CancellationReason,
  CohortExposure,
  CustomerValue,
  LearningEvent,
  LearningSnapshot,
  Offer,
  SaveTally,
  Segment,
  TaskOutcomeKind,
} from '@churn/contracts';
import { companionIdOf, deriveId } from './ids.ts';
import type { Policy } from './policy.ts';
import { type Emitted, NO_EMIT } from './processor.ts';
import { DAY_MS } from './time.ts';

/** The internal topic the decision partitions send learning events on (one partition). */
export const LEARNING_EVENTS_TOPIC = 'churn-learning.events' as const;
/** The internal topic the learning stage publishes snapshots on (one partition per decision partition). */
export const LEARNING_SNAPSHOTS_TOPIC = 'churn-learning.snapshots' as const;
/** The one key of the learning stage's state: it learns across all customers. */
export const LEARNING_KEY = 'learning';

const MONTH_MS = 30.4375 * DAY_MS;

export type NpsBand = 'promoter' | 'passive' | 'detractor' | 'silent' | 'never-asked';
export const NPS_BANDS: readonly NpsBand[] = ['promoter', 'passive', 'detractor', 'silent', 'never-asked'];

/** A record a learning processor sends: an event to the learning stage, or a snapshot to a decision partition. */
export type LearningOutput = Extract<Emitted, { topic: 'churn-learning.events' | 'churn-learning.snapshots' }>;

// ------------------------------------------------------------------ cohorts

/** How a customer answers surveys: the band of its last NPS, or silent (repeatedly unanswered), or never asked. */
export function npsBandOf(policy: Policy, value: Pick<CustomerValue, 'lastNps' | 'unansweredSurveys'>): NpsBand {
  return NPS_BANDS[npsBandIndex(policy, value)] as NpsBand;
}

function npsBandIndex(policy: Policy, value: Pick<CustomerValue, 'lastNps' | 'unansweredSurveys'>): number {
  if (value.unansweredSurveys >= policy.value.silence.repeatedAfter) return 3;
  if (value.lastNps === null || value.lastNps === undefined) return 4;
  if (value.lastNps <= policy.surveys.nps.detractorMax) return 2;
  if (value.lastNps <= policy.surveys.nps.passiveMax) return 1;
  return 0;
}

/** Cohort names and band bounds of a policy, made once: decisions ask for cohorts on the hot path. */
interface CohortTable {
  /** Tenure band labels, and their upper bounds in days. */
  readonly tenureLabels: readonly string[];
  readonly tenureBoundsDays: readonly number[];
  /** Names by segment (B2B, B2C), NPS band and tenure band. */
  readonly names: readonly (readonly (readonly string[])[])[];
}

let lastPolicy: Policy | null = null;
let lastTable: CohortTable | null = null;

function cohortTable(policy: Policy): CohortTable {
  if (policy === lastPolicy && lastTable !== null) return lastTable;
  const bounds = policy.learning.tenureBandsMonths;
  const tenureLabels: string[] = [];
  let from = 0;
  for (const to of bounds) {
    tenureLabels.push(`${from}-${to}m`);
    from = to;
  }
  tenureLabels.push(`${from}m+`);
  const names = (['B2B', 'B2C'] as const).map((segment) =>
    NPS_BANDS.map((nps) => tenureLabels.map((tenure) => `${segment}:${nps}:${tenure}`)),
  );
  lastPolicy = policy;
  lastTable = { tenureLabels, tenureBoundsDays: bounds.map((m) => (m * MONTH_MS) / DAY_MS), names };
  return lastTable;
}

/** The tenure bands of the policy, as labels: `0-6m`, `6-24m`, `24m+` for bounds [6, 24]. */
export function tenureBands(policy: Policy): readonly string[] {
  return cohortTable(policy).tenureLabels;
}

function tenureBandIndex(table: CohortTable, tenureDays: number): number {
  const bounds = table.tenureBoundsDays;
  for (let i = 0; i < bounds.length; i++) if (tenureDays < (bounds[i] as number)) return i;
  return bounds.length;
}

export function tenureBandOf(policy: Policy, tenureDays: number): string {
  const table = cohortTable(policy);
  return table.tenureLabels[tenureBandIndex(table, tenureDays)] as string;
}

/** A customer's cohort: segment, NPS band and tenure band, e.g. `B2B:detractor:6-24m`. */
export function cohortOf(policy: Policy, value: CustomerValue): string {
  const table = cohortTable(policy);
  const segment: Segment = value.segment ?? policy.tiers.segmentWhenUnknown;
  return (table.names[segment === 'B2C' ? 1 : 0] as readonly (readonly string[])[])[npsBandIndex(policy, value)]?.[
    tenureBandIndex(table, value.tenureDays)
  ] as string;
}

/** The three parts of a cohort label. */
export function cohortParts(cohort: string): [string, string, string] {
  const [segment = '', nps = '', tenure = ''] = cohort.split(':');
  return [segment, nps, tenure];
}

// ------------------------------------------------------------------ per customer

/** A retention task whose outcome will be credited to a reason, offer and cohort. */
export interface OpenRetention {
  readonly taskId: string;
  readonly reason: CancellationReason;
  readonly offer: Offer;
  readonly cohort: string;
  readonly arm: string | null;
  readonly openedAt: number;
}

/** What the decision processor remembers of a customer for learning. */
export interface CustomerLearning {
  /** The cohort the customer is counted in while at risk of leaving; null when it is not. */
  readonly atRisk: string | null;
  /** Since a cancellation that was not saved, the customer is no longer at risk. */
  readonly left: boolean;
  /** Retention tasks waiting for an outcome, oldest first. */
  readonly open: readonly OpenRetention[];
}

export const NEW_CUSTOMER_LEARNING: CustomerLearning = Object.freeze({ atRisk: null, left: false, open: [] });

/** Roles of the learning events one cause gives rise to: constant strings, so their hashes stay cached. */
type LearningRole = 'learning:cohort' | 'learning:outcome' | 'learning:saved' | 'learning:mark';

function learningEvent(
  eventId: string,
  occurredAt: number,
  kind: LearningEvent['kind'],
  cohorts: { from?: string | null; to?: string | null; cohort?: string | null },
  outcome: { reason: CancellationReason; offer: Offer; saved: boolean; arm: string | null } | null = null,
  mark: { partition: number; partitions: number } | null = null,
): LearningOutput {
  const value: LearningEvent = {
    eventId,
    occurredAt,
    kind,
    partition: mark?.partition ?? 0,
    partitions: mark?.partitions ?? 1,
    fromCohort: cohorts.from ?? null,
    toCohort: cohorts.to ?? null,
    cohort: cohorts.cohort ?? null,
    reason: outcome?.reason ?? null,
    offer: outcome?.offer ?? null,
    saved: outcome?.saved ?? null,
    arm: outcome?.arm ?? null,
  };
  return { topic: LEARNING_EVENTS_TOPIC, key: LEARNING_KEY, value };
}

function idOf(cause: string, role: LearningRole): string {
  return deriveId(cause, role);
}

/**
 * A new value snapshot of the customer: when its cohort changed while at risk, the
 * learning stage hears it (the exposure of each cohort is the time its customers spent
 * in it). `cause` is the snapshot's eventId.
 */
export function cohortChange(
  policy: Policy,
  learning: CustomerLearning,
  value: CustomerValue,
  cause: string,
  now: number,
): { learning: CustomerLearning; emit: readonly LearningOutput[] } {
  if (learning.left) return { learning, emit: NO_EMIT as readonly LearningOutput[] };
  const cohort = cohortOf(policy, value);
  if (cohort === learning.atRisk) return { learning, emit: NO_EMIT as readonly LearningOutput[] };
  return {
    learning: { ...learning, atRisk: cohort },
    emit: [learningEvent(idOf(cause, 'learning:cohort'), now, 'COHORT', { from: learning.atRisk, to: cohort })],
  };
}

/**
 * A decided cancellation (`decisionId`: the decision's id): it counts towards the hazard
 * of the customer's cohort, the customer leaves the population at risk, and a win-back's
 * retention task waits for its outcome.
 */
export function cancellationEvents(
  policy: Policy,
  learning: CustomerLearning,
  value: CustomerValue,
  decisionId: string,
  now: number,
  retention: { taskId: string; reason: CancellationReason; offer: Offer; arm: string | null } | null,
  cohortNow?: string,
): { learning: CustomerLearning; emit: readonly LearningOutput[] } {
  const cohort = learning.atRisk ?? cohortNow ?? cohortOf(policy, value);
  // Ids that belong to the decision: no hash of their own on the decision's hot path.
  const emit: LearningOutput[] = [learningEvent(companionIdOf(decisionId, 'a'), now, 'CANCELLATION', { cohort })];
  if (learning.atRisk !== null) {
    emit.push(learningEvent(companionIdOf(decisionId, 'b'), now, 'COHORT', { from: learning.atRisk }));
  }
  const forgetBefore = now - policy.learning.forgetOpenTasksAfterDays * DAY_MS;
  const open: OpenRetention[] = [];
  if (learning.open.length > 0) for (const task of learning.open) if (task.openedAt >= forgetBefore) open.push(task);
  if (retention !== null) {
    open.push({
      taskId: retention.taskId,
      reason: retention.reason,
      offer: retention.offer,
      cohort,
      arm: retention.arm,
      openedAt: now,
    });
  }
  return { learning: { atRisk: null, left: true, open }, emit };
}

/**
 * A contact-center outcome. One that closes an open retention task counts for its
 * reason, offer and cohort: saved or not (policy `learning.savedOutcomes` and
 * `lostOutcomes`; NO_CONTACT leaves the task open, other outcomes close it uncounted).
 * A saved customer is at risk again, in its current cohort.
 */
export function outcomeEvents(
  policy: Policy,
  learning: CustomerLearning,
  value: CustomerValue | null,
  outcome: { eventId: string; taskId: string; outcome: TaskOutcomeKind },
  now: number,
): { learning: CustomerLearning; emit: readonly LearningOutput[] } {
  const task = learning.open.find((t) => t.taskId === outcome.taskId);
  const none = { learning, emit: NO_EMIT as readonly LearningOutput[] };
  if (task === undefined || outcome.outcome === 'NO_CONTACT') return none;
  const open = learning.open.filter((t) => t !== task);
  const saved = policy.tables.savedOutcomes.has(outcome.outcome);
  const lost = policy.tables.lostOutcomes.has(outcome.outcome);
  if (!saved && !lost) return { learning: { ...learning, open }, emit: NO_EMIT as readonly LearningOutput[] };
  const emit: LearningOutput[] = [
    learningEvent(
      idOf(outcome.eventId, 'learning:outcome'),
      now,
      'OUTCOME',
      { cohort: task.cohort },
      { reason: task.reason, offer: task.offer, saved, arm: task.arm },
    ),
  ];
  if (!saved || value === null) return { learning: { ...learning, open }, emit };
  const cohort = cohortOf(policy, value);
  emit.push(learningEvent(idOf(outcome.eventId, 'learning:saved'), now, 'COHORT', { to: cohort }));
  return { learning: { atRisk: cohort, left: false, open }, emit };
}

/** The watermark a decision partition sends at each midnight it passes. */
export function learningMark(partition: number, partitions: number, at: number): LearningOutput {
  return learningEvent(idOf(`mark:${partition}:${partitions}:${at}`, 'learning:mark'), at, 'MARK', {}, null, {
    partition,
    partitions,
  });
}

// ------------------------------------------------------------------ across partitions

/** The learning stage's state: what it has counted, and what waits for the watermark. */
export interface LearningState {
  /** Per source partition, the last midnight it has passed (0 before any). */
  readonly marks: readonly number[];
  /** Events at or after the watermark, waiting until every partition has passed them. */
  readonly pending: readonly LearningEvent[];
  /** The last midnight a snapshot was published for; null before the first. */
  readonly published: number | null;
  /** Customers at risk per cohort now, and the time the exposure is counted up to. */
  readonly population: Readonly<Record<string, number>>;
  readonly countedTo: number | null;
  readonly exposure: Readonly<Record<string, number>>;
  readonly cancellations: Readonly<Record<string, number>>;
  /** `reason/offer/cohort` → [saves, tries]. */
  readonly saves: Readonly<Record<string, readonly [number, number]>>;
  /** arm → [saves, tries]. */
  readonly arms: Readonly<Record<string, readonly [number, number]>>;
}

const EMPTY_LEARNING: LearningState = {
  marks: [],
  pending: [],
  published: null,
  population: {},
  countedTo: null,
  exposure: {},
  cancellations: {},
  saves: {},
  arms: {},
};

function byTimeThenId(a: LearningEvent, b: LearningEvent): number {
  return a.occurredAt - b.occurredAt || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/** Mutable working copy of the counts while events are applied. */
interface Counts {
  population: Record<string, number>;
  countedTo: number | null;
  exposure: Record<string, number>;
  cancellations: Record<string, number>;
  saves: Record<string, [number, number]>;
  arms: Record<string, [number, number]>;
}

function countsOf(state: LearningState): Counts {
  return {
    population: { ...state.population },
    countedTo: state.countedTo,
    exposure: { ...state.exposure },
    cancellations: { ...state.cancellations },
    saves: Object.fromEntries(Object.entries(state.saves).map(([k, v]) => [k, [v[0], v[1]]])),
    arms: Object.fromEntries(Object.entries(state.arms).map(([k, v]) => [k, [v[0], v[1]]])),
  };
}

/**
 * Adds each cohort's customer-months at risk from the last count up to `to`, in steps
 * that end at every midnight on the way: the sums then take the same steps whenever
 * the snapshots happen to be published, so every deployment gets the same numbers to
 * the last bit.
 */
function countExposureTo(counts: Counts, to: number): void {
  if (counts.countedTo === null) {
    counts.countedTo = to;
    return;
  }
  while (to > counts.countedTo) {
    const next = Math.min(to, Math.floor(counts.countedTo / DAY_MS) * DAY_MS + DAY_MS);
    const months = (next - counts.countedTo) / MONTH_MS;
    for (const [cohort, n] of Object.entries(counts.population)) {
      if (n > 0) counts.exposure[cohort] = (counts.exposure[cohort] ?? 0) + n * months;
    }
    counts.countedTo = next;
  }
}

function apply(counts: Counts, event: LearningEvent): void {
  countExposureTo(counts, event.occurredAt);
  switch (event.kind) {
    case 'COHORT':
      if (event.fromCohort !== null && (counts.population[event.fromCohort] ?? 0) > 0)
        counts.population[event.fromCohort] = (counts.population[event.fromCohort] ?? 0) - 1;
      if (event.toCohort !== null) counts.population[event.toCohort] = (counts.population[event.toCohort] ?? 0) + 1;
      return;
    case 'CANCELLATION':
      if (event.cohort !== null) counts.cancellations[event.cohort] = (counts.cancellations[event.cohort] ?? 0) + 1;
      return;
    case 'OUTCOME': {
      if (event.cohort === null || event.reason === null || event.offer === null || event.saved === null) return;
      const key = `${event.reason}/${event.offer}/${event.cohort}`;
      const tally = counts.saves[key] ?? [0, 0];
      counts.saves[key] = [tally[0] + (event.saved ? 1 : 0), tally[1] + 1];
      if (event.arm !== null) {
        const arm = counts.arms[event.arm] ?? [0, 0];
        counts.arms[event.arm] = [arm[0] + (event.saved ? 1 : 0), arm[1] + 1];
      }
      return;
    }
    default:
      return;
  }
}

function snapshotOf(counts: Counts, at: number, partition: number): LearningSnapshot {
  const saves: SaveTally[] = [];
  for (const [key, [s, t]] of Object.entries(counts.saves).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [reason, offer, cohort] = key.split('/') as [CancellationReason, Offer, string];
    saves.push({ reason, offer, cohort, saves: s, tries: t });
  }
  const cohorts = [...new Set([...Object.keys(counts.exposure), ...Object.keys(counts.cancellations)])].sort();
  const exposures: CohortExposure[] = cohorts.map((cohort) => ({
    cohort,
    cancellations: counts.cancellations[cohort] ?? 0,
    exposureMonths: counts.exposure[cohort] ?? 0,
  }));
  const arms = Object.keys(counts.arms)
    .sort()
    .map((arm) => ({ arm, saves: counts.arms[arm]?.[0] ?? 0, tries: counts.arms[arm]?.[1] ?? 0 }));
  return {
    eventId: deriveId(`learning:${at}`, `snapshot:${partition}`),
    occurredAt: at,
    partition,
    saves,
    exposures,
    arms,
  };
}

/**
 * The learning stage: counts the decision partitions' events in event-time order once
 * every partition has passed them, and publishes at each midnight the watermark passes
 * one snapshot per decision partition, of everything before that midnight. An event that
 * arrives behind the watermark (a dead letter replayed late, say) counts at once, in the
 * next snapshot.
 */
export function learnAcrossPartitions(
  event: LearningEvent,
  state: LearningState | undefined,
): { state: LearningState; emit: readonly LearningOutput[] } {
  const current = state ?? EMPTY_LEARNING;
  const watermarkOf = (marks: readonly number[]) =>
    marks.length === 0 ? 0 : marks.reduce((w, m) => Math.min(w, m), Number.POSITIVE_INFINITY);
  if (event.kind !== 'MARK') {
    if (event.kind === 'UNKNOWN') return { state: current, emit: NO_EMIT as readonly LearningOutput[] };
    if (current.published !== null && event.occurredAt < current.published) {
      const counts = countsOf(current);
      // Late: counted now, so it shows from the next snapshot on.
      apply(counts, { ...event, occurredAt: Math.max(event.occurredAt, counts.countedTo ?? event.occurredAt) });
      return { state: { ...current, ...counts }, emit: NO_EMIT as readonly LearningOutput[] };
    }
    if (current.pending.some((p) => p.eventId === event.eventId))
      return { state: current, emit: NO_EMIT as readonly LearningOutput[] };
    return { state: { ...current, pending: [...current.pending, event] }, emit: NO_EMIT as readonly LearningOutput[] };
  }
  const marks = Array.from({ length: event.partitions }, (_, i) => current.marks[i] ?? 0);
  marks[event.partition] = Math.max(marks[event.partition] ?? 0, event.occurredAt);
  const watermark = watermarkOf(marks);
  if (watermark === 0 || (current.published !== null && watermark <= current.published)) {
    return { state: { ...current, marks }, emit: NO_EMIT as readonly LearningOutput[] };
  }
  const counts = countsOf(current);
  const waiting = [...current.pending].sort(byTimeThenId);
  const emit: LearningOutput[] = [];
  let next = 0;
  // Every midnight from the first with a full watermark: the first snapshot is of the
  // watermark's midnight itself, and then one per day, so that each day has its own.
  const first = current.published === null ? watermark : current.published + DAY_MS;
  for (let at = first; at <= watermark; at += DAY_MS) {
    while (next < waiting.length && (waiting[next] as LearningEvent).occurredAt < at) {
      apply(counts, waiting[next] as LearningEvent);
      next++;
    }
    countExposureTo(counts, at);
    for (let p = 0; p < event.partitions; p++) {
      emit.push({ topic: LEARNING_SNAPSHOTS_TOPIC, key: LEARNING_KEY, value: snapshotOf(counts, at, p), partition: p });
    }
  }
  return {
    state: { ...counts, marks, pending: waiting.slice(next), published: watermark },
    emit,
  };
}

// ------------------------------------------------------------------ the model a decision uses

/** What one snapshot says, with one policy's priors: built once per snapshot and policy. */
export interface LearnedModel {
  readonly asOf: number;
  /** The save probability of an offer for a reason and cohort, with what it came from. */
  saveRate(reason: CancellationReason, offer: Offer, prior: number, cohort: string): SaveRate;
  /** The monthly churn hazard of a cohort, with what it came from. */
  hazard(cohort: string, prior: number): Hazard;
}

export interface SaveRate {
  readonly prior: number;
  readonly observedSaves: number;
  readonly observedTries: number;
  /** The reason and offer's rate: the prior blended with the outcomes of every cohort. */
  readonly base: number;
  /** How the cohort responds against the average (1: as the average). */
  readonly multiplier: number;
  readonly probability: number;
}

export interface Hazard {
  readonly prior: number;
  readonly cancellations: number;
  readonly exposureMonths: number;
  /** Monthly probability of leaving. */
  readonly rate: number;
}

/** Beta-Binomial: the prior as `strength` pseudo-outcomes, the observed ones added. */
export function blendRate(prior: number, strength: number, successes: number, trials: number): number {
  if (strength + trials <= 0) return prior;
  return (prior * strength + successes) / (strength + trials);
}

/** Gamma-Poisson ratio: observed over expected, with `strength` pseudo-expected events at 1. */
export function blendRatio(strength: number, observed: number, expected: number): number {
  if (strength + expected <= 0) return 1;
  return (strength + observed) / (strength + expected);
}

const models = new WeakMap<LearningSnapshot, WeakMap<Policy, LearnedModel>>();

/**
 * The model of a snapshot under a policy's priors. Save rates: each reason and offer's
 * prior blended with its outcomes (`learning.saveRates.priorStrength` pseudo-outcomes),
 * times a multiplier per cohort dimension (segment, NPS band, tenure band) learned as
 * saves over expected saves (`learning.cohorts.priorStrength` pseudo-saves at 1).
 * Hazards: the policy's monthly churn rate blended with the stream's cancellations per
 * customer-month at risk (`learning.hazard.priorStrengthMonths` pseudo-months), times a
 * rate ratio per cohort dimension learned the same way.
 */
export function modelOf(policy: Policy, snapshot: LearningSnapshot): LearnedModel {
  let byPolicy = models.get(snapshot);
  if (byPolicy === undefined) {
    byPolicy = new WeakMap();
    models.set(snapshot, byPolicy);
  }
  const known = byPolicy.get(policy);
  if (known !== undefined) return known;
  const model = buildModel(policy, snapshot);
  byPolicy.set(policy, model);
  return model;
}

function buildModel(policy: Policy, snapshot: LearningSnapshot): LearnedModel {
  const saveStrength = policy.learning.saveRates.priorStrength;
  const cohortStrength = policy.learning.cohorts.priorStrength;
  const hazardStrength = policy.learning.hazard.priorStrengthMonths;
  const bounds = policy.learning.cohorts.multiplierBounds;
  const clamp = (m: number) => Math.min(bounds[1], Math.max(bounds[0], m));
  // Per reason and offer, over every cohort.
  const pooled = new Map<string, [number, number]>();
  for (const t of snapshot.saves) {
    const key = `${t.reason}/${t.offer}`;
    const p = pooled.get(key) ?? [0, 0];
    pooled.set(key, [p[0] + t.saves, p[1] + t.tries]);
  }
  const priorOf = (reason: CancellationReason, offer: Offer): number =>
    policy.tables.offersByReason[reason].find((o) => o.offer === offer)?.probability ?? 0;
  const baseOf = (reason: CancellationReason, offer: Offer, prior: number) => {
    const [s, t] = pooled.get(`${reason}/${offer}`) ?? [0, 0];
    return blendRate(prior, saveStrength, s, t);
  };
  // Per cohort dimension: saves against the saves the base rates expect.
  const responded = [
    new Map<string, [number, number]>(),
    new Map<string, [number, number]>(),
    new Map<string, [number, number]>(),
  ];
  for (const t of snapshot.saves) {
    const expected = t.tries * baseOf(t.reason, t.offer, priorOf(t.reason, t.offer));
    const parts = cohortParts(t.cohort);
    for (let d = 0; d < 3; d++) {
      const map = responded[d] as Map<string, [number, number]>;
      const v = map.get(parts[d] as string) ?? [0, 0];
      map.set(parts[d] as string, [v[0] + t.saves, v[1] + expected]);
    }
  }
  // Hazards: overall, then per dimension against what the overall rate expects.
  let cancelled = 0;
  let months = 0;
  for (const e of snapshot.exposures) {
    cancelled += e.cancellations;
    months += e.exposureMonths;
  }
  const exposureByCohort = new Map(snapshot.exposures.map((e) => [e.cohort, e]));
  const leaving = [
    new Map<string, [number, number]>(),
    new Map<string, [number, number]>(),
    new Map<string, [number, number]>(),
  ];
  for (const e of snapshot.exposures) {
    const parts = cohortParts(e.cohort);
    for (let d = 0; d < 3; d++) {
      const map = leaving[d] as Map<string, [number, number]>;
      const v = map.get(parts[d] as string) ?? [0, 0];
      map.set(parts[d] as string, [v[0] + e.cancellations, v[1] + e.exposureMonths]);
    }
  }
  return {
    asOf: snapshot.occurredAt,
    saveRate(reason, offer, prior, cohort) {
      const [observedSaves, observedTries] = pooled.get(`${reason}/${offer}`) ?? [0, 0];
      const base = blendRate(prior, saveStrength, observedSaves, observedTries);
      const parts = cohortParts(cohort);
      let multiplier = 1;
      for (let d = 0; d < 3; d++) {
        const [saved, expected] = (responded[d] as Map<string, [number, number]>).get(parts[d] as string) ?? [0, 0];
        multiplier *= blendRatio(cohortStrength, saved, expected);
      }
      multiplier = clamp(multiplier);
      const probability = Math.min(policy.learning.saveRates.maxProbability, Math.max(0, base * multiplier));
      return { prior, observedSaves, observedTries, base, multiplier, probability };
    },
    hazard(cohort, prior) {
      const overall = blendRate(prior, hazardStrength, cancelled, months);
      const parts = cohortParts(cohort);
      let ratio = 1;
      for (let d = 0; d < 3; d++) {
        const [c, m] = (leaving[d] as Map<string, [number, number]>).get(parts[d] as string) ?? [0, 0];
        ratio *= blendRatio(hazardStrength * prior, c, overall * m);
      }
      const own = exposureByCohort.get(cohort);
      return {
        prior,
        cancellations: own?.cancellations ?? 0,
        exposureMonths: own?.exposureMonths ?? 0,
        rate: Math.min(1, Math.max(1e-6, overall * clamp(ratio))),
      };
    },
  };
}
