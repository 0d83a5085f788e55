/**
 * The synthetic world of `churnctl simulate`: customers whose true save rates and true
 * monthly churn differ from what a policy assumes. Everything is drawn from a seed: the
 * world's parameters (randomised around a fixed structure, so that different seeds are
 * different worlds) and every customer's profile, invoices, NPS answers and
 * cancellations. The world is revealed month by month; between months it learns each
 * cancellation's fate (saved or gone), which decides whether the customer stays.
 *
 * Pure: no I/O and no clock. The same seed, options and fates give the same events.
 */
import {
  type CancellationReason,
  CancellationReasonValues,
  type CancellationRequested,
  type CustomerProfile,
  type CustomerValue,
  type InvoiceEvent,
  type Offer,
  type Segment,
  SegmentValues,
  type SurveyResult,
  type TaskOutcomeKind,
  topicCatalogue,
} from '@churn/contracts';
import { type Policy, type WeighableOffer, WeighableOfferValues } from '@churn/domain';
import { CHANNEL_WEIGHTS, Random } from './generate.ts';
import type { OfflineEvent } from './offline.ts';

export const DAY = 86_400_000;
/** A simulated month is 30 days, as in `churnctl generate`. */
export const MONTH = 30 * DAY;
/** Customers who joined before the start are invoiced from this many months before it (enough for the 12-month window). */
export const HISTORY_MONTHS = 13;

/**
 * How a customer answers NPS surveys: the category of its last answer; SILENT when its
 * last `silentAfter` surveys in a row went unanswered; NEVER_ASKED before any answer.
 */
export const NpsBandValues = ['PROMOTER', 'PASSIVE', 'DETRACTOR', 'SILENT', 'NEVER_ASKED'] as const;
export type NpsBand = (typeof NpsBandValues)[number];
/** Tenure: NEW under a year, ESTABLISHED under three years, LONG from three years. */
export const TenureBandValues = ['NEW', 'ESTABLISHED', 'LONG'] as const;
export type TenureBand = (typeof TenureBandValues)[number];

/** A customer's cohort: what the world's true rates depend on, all of it visible to the pipeline. */
export interface Cohort {
  readonly segment: Segment;
  readonly nps: NpsBand;
  readonly tenure: TenureBand;
}

export function cohortKey(c: Cohort): string {
  return `${c.segment}/${c.nps}/${c.tenure}`;
}

export const allCohorts: readonly Cohort[] = SegmentValues.flatMap((segment) =>
  NpsBandValues.flatMap((nps) => TenureBandValues.map((tenure) => ({ segment, nps, tenure }))),
);

export function tenureBandOf(tenureDays: number): TenureBand {
  return tenureDays < 365 ? 'NEW' : tenureDays < 3 * 365 ? 'ESTABLISHED' : 'LONG';
}

/** Standard NPS categories: 0-6 detractor, 7-8 passive, 9-10 promoter. */
export function npsCategory(score: number): 'PROMOTER' | 'PASSIVE' | 'DETRACTOR' {
  return score <= 6 ? 'DETRACTOR' : score <= 8 ? 'PASSIVE' : 'PROMOTER';
}

/**
 * The cohort as the pipeline sees it in a customer value snapshot (the world sends only
 * NPS surveys, so the snapshot's unanswered surveys in a row are NPS surveys).
 */
export function cohortOfValue(value: CustomerValue, silentAfter: number): Cohort {
  const nps: NpsBand =
    value.unansweredSurveys >= silentAfter
      ? 'SILENT'
      : value.lastNps === null
        ? 'NEVER_ASKED'
        : npsCategory(value.lastNps);
  return { segment: value.segment ?? 'B2C', nps, tenure: tenureBandOf(value.tenureDays) };
}

/** A reason/offer pair's key. */
export function pairKey(reason: CancellationReason, offer: Offer): string {
  return `${reason}/${offer}`;
}

type Disposition = 'PROMOTER' | 'PASSIVE' | 'DETRACTOR' | 'SILENT';

/** The truth of one world, drawn from its seed. Plain data. */
export interface WorldParameters {
  readonly seed: number;
  /** Version of the policy whose priors the true save rates were drawn around. */
  readonly referencePolicy: string;
  /** The reference policy's prior per reason/offer (for pairs it does not have, the offer's mean prior elsewhere). */
  readonly priors: Readonly<Record<string, number>>;
  /** The reason/offer pairs the reference policy weighs. */
  readonly policyPairs: readonly string[];
  /** True save rate relative to the prior per reason/offer, before the cohort's factors. */
  readonly pairFactors: Readonly<Record<string, number>>;
  /** True save probability per reason/offer/segment/nps/tenure. */
  readonly saveRates: Readonly<Record<string, number>>;
  /** True monthly churn hazard per cohort (segment/nps/tenure). */
  readonly hazards: Readonly<Record<string, number>>;
  /** The reference policy's monthly churn rate, for comparison. */
  readonly policyChurnRate: number;
  /** Cap on the remaining months of a customer's lifetime value (the reference policy's). */
  readonly remainingMonthsCap: number;
  /** Unanswered NPS surveys in a row from which a customer counts as silent (the reference policy's repeated silence). */
  readonly silentAfter: number;
  /** Share of retention tasks in which the customer is never reached. */
  readonly noContactShare: number;
  /** Share of business customers and the mix of dispositions towards surveys. */
  readonly b2bShare: number;
  readonly dispositions: Readonly<Record<Disposition, number>>;
}

// The structure the world is randomised around. Each factor is drawn as
// structure x exp(U(-JITTER, JITTER)) per seed.
const JITTER = 0.2;
type OfferFactors = { readonly all: number } & Partial<Record<WeighableOffer, number>>;
const SEGMENT_SAVE: Record<Segment, OfferFactors> = {
  B2B: { all: 1, ACCOUNT_MANAGER_MEETING: 1.25, PAUSE: 0.8 },
  B2C: { all: 1, DOWNGRADE: 1.1 },
};
const NPS_SAVE: Record<NpsBand, OfferFactors> = {
  PROMOTER: { all: 1.2, LOYALTY_BONUS: 1.5 },
  PASSIVE: { all: 1 },
  DETRACTOR: { all: 0.75, LOYALTY_BONUS: 0.45, SERVICE_RECOVERY: 1.15, ACCOUNT_MANAGER_MEETING: 0.95 },
  SILENT: { all: 0.7 },
  NEVER_ASKED: { all: 0.95 },
};
const TENURE_SAVE: Record<TenureBand, OfferFactors> = {
  NEW: { all: 0.95, PAUSE: 1.45, DOWNGRADE: 1.1 },
  ESTABLISHED: { all: 1 },
  LONG: { all: 1.05, LOYALTY_BONUS: 1.3, PAUSE: 0.8 },
};
const NPS_HAZARD: Record<NpsBand, number> = {
  PROMOTER: 0.5,
  PASSIVE: 0.9,
  DETRACTOR: 2.2,
  SILENT: 1.9,
  NEVER_ASKED: 1.3,
};
const TENURE_HAZARD: Record<TenureBand, number> = { NEW: 1.5, ESTABLISHED: 1, LONG: 0.75 };
const SEGMENT_HAZARD: Record<Segment, number> = { B2B: 0.8, B2C: 1.1 };
const LONG_TENURE_PROMOTER_HAZARD = 0.7;
const SAVE_RATE_BOUNDS = [0.01, 0.95] as const;
const HAZARD_BOUNDS = [0.002, 0.3] as const;

const clamp = (x: number, [lo, hi]: readonly [number, number]) => Math.min(hi, Math.max(lo, x));

/** A 32-bit seed for an independent stream of random numbers, from a world's seed and a path of integers. */
export function streamSeed(...parts: readonly number[]): number {
  let h = 0x2545f491;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

const STREAM = { parameters: 1, customer: 2, month: 3, survey: 4, invoice: 5, outcome: 6 } as const;

/**
 * The world's parameters for a seed, drawn around the priors of `reference` (the first
 * policy under test): half of the policy's reason/offer pairs truly save more than the
 * policy assumes and half less, and every cohort's true monthly churn differs from the
 * policy's single rate.
 */
export function worldParameters(seed: number, reference: Policy): WorldParameters {
  const rng = new Random(streamSeed(seed, STREAM.parameters));
  const jitter = (spread = JITTER) => Math.exp(rng.between(-spread, spread));
  const logUniform = (lo: number, hi: number) => Math.exp(rng.between(Math.log(lo), Math.log(hi)));

  const priors: Record<string, number> = {};
  const inPolicy: string[] = [];
  const offerPriors = new Map<WeighableOffer, number[]>();
  for (const reason of CancellationReasonValues) {
    for (const offer of reference.tables.offersByReason[reason]) {
      priors[pairKey(reason, offer.offer)] = offer.probability;
      inPolicy.push(pairKey(reason, offer.offer));
      offerPriors.set(offer.offer, [...(offerPriors.get(offer.offer) ?? []), offer.probability]);
    }
  }
  for (const reason of CancellationReasonValues) {
    for (const offer of WeighableOfferValues) {
      const key = pairKey(reason, offer);
      if (priors[key] !== undefined) continue;
      const known = offerPriors.get(offer) ?? [];
      priors[key] = known.length > 0 ? known.reduce((s, p) => s + p, 0) / known.length : 0.2;
    }
  }
  // Shuffle the policy's pairs; the first half truly does better than its prior, the rest worse.
  const order = [...inPolicy];
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j] as string, order[i] as string];
  }
  const pairFactors: Record<string, number> = {};
  const better = Math.ceil(order.length / 2);
  order.forEach((key, i) => {
    pairFactors[key] = i < better ? logUniform(1.15, 1.7) : logUniform(0.45, 0.87);
  });
  for (const key of Object.keys(priors)) pairFactors[key] ??= logUniform(0.5, 1.6);

  const drawFactors = <K extends string>(structure: Record<K, OfferFactors>) => {
    const out = {} as Record<K, Record<WeighableOffer, number>>;
    for (const band of Object.keys(structure) as K[]) {
      const s = structure[band];
      const row = {} as Record<WeighableOffer, number>;
      for (const offer of WeighableOfferValues) row[offer] = (s[offer] ?? s.all) * jitter();
      out[band] = row;
    }
    return out;
  };
  const segmentSave = drawFactors(SEGMENT_SAVE);
  const npsSave = drawFactors(NPS_SAVE);
  const tenureSave = drawFactors(TENURE_SAVE);
  const saveRates: Record<string, number> = {};
  for (const reason of CancellationReasonValues) {
    for (const offer of WeighableOfferValues) {
      const pair = pairKey(reason, offer);
      const base = (priors[pair] as number) * (pairFactors[pair] as number);
      for (const c of allCohorts) {
        const p = base * segmentSave[c.segment][offer] * npsSave[c.nps][offer] * tenureSave[c.tenure][offer];
        saveRates[`${pair}/${cohortKey(c)}`] = clamp(p, SAVE_RATE_BOUNDS);
      }
    }
  }

  const policyChurnRate = reference.value.monthlyChurnRate;
  const base = policyChurnRate * logUniform(0.75, 1.35);
  const npsHazard = Object.fromEntries(NpsBandValues.map((b) => [b, NPS_HAZARD[b] * jitter(0.25)]));
  const tenureHazard = Object.fromEntries(TenureBandValues.map((b) => [b, TENURE_HAZARD[b] * jitter(0.25)]));
  const segmentHazard = Object.fromEntries(SegmentValues.map((s) => [s, SEGMENT_HAZARD[s] * jitter(0.25)]));
  const longPromoter = LONG_TENURE_PROMOTER_HAZARD * jitter(0.25);
  const hazards: Record<string, number> = {};
  for (const c of allCohorts) {
    const extra = c.nps === 'PROMOTER' && c.tenure === 'LONG' ? longPromoter : 1;
    const h =
      base *
      (npsHazard[c.nps] as number) *
      (tenureHazard[c.tenure] as number) *
      (segmentHazard[c.segment] as number) *
      extra *
      jitter(0.1);
    hazards[cohortKey(c)] = clamp(h, HAZARD_BOUNDS);
  }

  const dispositions = {
    PROMOTER: 0.3 * jitter(0.3),
    PASSIVE: 0.3 * jitter(0.3),
    DETRACTOR: 0.2 * jitter(0.3),
    SILENT: 0.2 * jitter(0.3),
  };
  return {
    seed,
    referencePolicy: reference.version,
    priors,
    policyPairs: inPolicy,
    pairFactors,
    saveRates,
    hazards,
    policyChurnRate,
    remainingMonthsCap: reference.value.remainingMonthsCap,
    silentAfter: reference.value.silence.repeatedAfter,
    noContactShare: rng.between(0.03, 0.08),
    b2bShare: rng.between(0.25, 0.35),
    dispositions,
  };
}

/** The true chance that `offer` keeps a customer of `cohort` who cancels for `reason`; 0 for no offer. */
export function trueSaveRate(world: WorldParameters, reason: CancellationReason, offer: Offer, cohort: Cohort): number {
  return world.saveRates[`${pairKey(reason, offer)}/${cohortKey(cohort)}`] ?? 0;
}

export function trueHazard(world: WorldParameters, cohort: Cohort): number {
  return world.hazards[cohortKey(cohort)] as number;
}

/** Monthly margin x expected remaining months under the true hazard, capped as the policy caps it. */
export function trueRemainingLifetimeValue(world: WorldParameters, cohort: Cohort, monthlyMargin: number): number {
  return monthlyMargin * Math.min(world.remainingMonthsCap, 1 / trueHazard(world, cohort));
}

export type Fate = 'SAVED' | 'LOST' | 'NO_CONTACT';

/** Draws a retention task's fate: not reached with `noContactShare`, else saved with probability `p`. */
export function drawFate(rng: Random, p: number, noContactShare: number): Fate {
  if (rng.chance(noContactShare)) return 'NO_CONTACT';
  return rng.chance(p) ? 'SAVED' : 'LOST';
}

/** The outcome the contact center reports for a fate: a saved customer is PAUSED, DOWNGRADED or RETAINED by the offer. */
export function outcomeKindOf(fate: Fate, offer: Offer): TaskOutcomeKind {
  if (fate !== 'SAVED') return fate;
  return offer === 'PAUSE' ? 'PAUSED' : offer === 'DOWNGRADE' ? 'DOWNGRADED' : 'RETAINED';
}

type Tier = 'A' | 'B' | 'C' | 'D';

/** Yearly revenue ranges per segment and tier, major units (as `churnctl generate`). */
const YEARLY: Record<Segment, Record<Tier, readonly [number, number]>> = {
  B2B: { A: [520_000, 1_800_000], B: [110_000, 480_000], C: [22_000, 95_000], D: [3_000, 19_000] },
  B2C: { A: [10_500, 24_000], B: [3_200, 9_500], C: [1_050, 2_900], D: [150, 950] },
};
/** The world's customers all pay in one currency, so that values add up. */
export const WORLD_CURRENCY = 'DKK';

export interface SimCustomer {
  readonly index: number;
  readonly id: string;
  readonly segment: Segment;
  readonly tier: Tier;
  /** Expected monthly invoice, minor units. */
  readonly monthlyMinor: number;
  /** Cost to serve as a share of the invoice (above 1: the customer costs more than it brings). */
  readonly costRatio: number;
  readonly signedUpAt: number;
  readonly disposition: Disposition;
  readonly latePayer: boolean;
  readonly accountManager: string | null;
  readonly invoiceDay: number;
  /** Days from sign-up to the first NPS survey; one every 90 days after it. */
  readonly firstSurveyDays: number;
  readonly profile: CustomerProfile;
}

/** The true monthly margin a customer brings (minor units): what its invoices earn on average. */
export function trueMonthlyMargin(c: SimCustomer): number {
  return c.monthlyMinor * (1 - c.costRatio);
}

/** A cancellation the world drew, with what the truth needs to judge it. */
export interface SimCancellation {
  readonly eventId: string;
  readonly customerId: string;
  readonly customerIndex: number;
  /** The simulated month it falls in, 0-based. */
  readonly month: number;
  readonly at: number;
  readonly effectiveAt: number;
  readonly reason: CancellationReason;
  readonly cohort: Cohort;
  readonly trueMonthlyMargin: number;
}

export interface WorldOptions {
  customers: number;
  months: number;
  /** Start of the first simulated month, epoch ms. @default 2025-01-01T00:00:00Z */
  start?: number;
}

interface Pending {
  readonly at: number;
  readonly rank: number;
  readonly order: number;
  readonly event: OfflineEvent;
  readonly customer: number;
  /** The event does not happen when the customer leaves at or before this time (-Infinity: it always happens). */
  readonly unless: number;
}

const SURVEY_EVERY = 90 * DAY;
const RANK = new Map<string, number>(topicCatalogue.map((t, i) => [t.topic, i]));

/** Event-time order; at the same millisecond the order of the topic catalogue (as the services merge their inputs). */
function before(a: Pending, b: Pending): boolean {
  return a.at < b.at || (a.at === b.at && (a.rank < b.rank || (a.rank === b.rank && a.order < b.order)));
}

/**
 * The world, revealed in event-time order. `month(k)` draws what happens in month k
 * (for the first month also every customer's history before the start) and returns the
 * month's cancellations; `next` hands out the events one by one; `schedule` adds an
 * event (a task's outcome) to come; `settle` tells the world whether a cancelling
 * customer stays. A customer who is not saved is invoiced until the cancellation takes
 * effect, then never again.
 */
export class World {
  readonly parameters: WorldParameters;
  readonly customers: readonly SimCustomer[];
  readonly start: number;
  readonly months: number;
  readonly #leavesAt: number[];
  /** Events to come, in event-time order, from `#head` on. */
  #queue: Pending[] = [];
  #head = 0;
  #order = 0;
  #next = 0;

  constructor(parameters: WorldParameters, options: WorldOptions) {
    this.parameters = parameters;
    this.start = options.start ?? Date.UTC(2025, 0, 1);
    this.months = options.months;
    const customers: SimCustomer[] = [];
    for (let i = 0; i < options.customers; i++) customers.push(this.#customer(i));
    this.customers = customers;
    this.#leavesAt = customers.map(() => Number.POSITIVE_INFINITY);
  }

  #customer(index: number): SimCustomer {
    const w = this.parameters;
    const rng = new Random(streamSeed(w.seed, STREAM.customer, index));
    const id = `cust-${String(index + 1).padStart(6, '0')}`;
    const segment: Segment = rng.chance(w.b2bShare) ? 'B2B' : 'B2C';
    const tier = rng.pick<Tier>([
      ['A', 5],
      ['B', 15],
      ['C', 30],
      ['D', 50],
    ]);
    const [lo, hi] = YEARLY[segment][tier];
    const monthlyMinor = Math.round((Math.exp(rng.between(Math.log(lo), Math.log(hi))) / 12) * 100);
    const signedUpAt = rng.chance(0.7)
      ? this.start - rng.int(60, 5 * 365) * DAY
      : this.start + rng.int(0, Math.max(1, this.months - 1) * 30) * DAY;
    const owner =
      tier === 'A' || tier === 'B'
        ? `am-${String(rng.int(1, 12)).padStart(2, '0')}`
        : rng.chance(0.3)
          ? `is-${String(rng.int(1, 8)).padStart(2, '0')}`
          : null;
    const grow = rng.chance(segment === 'B2B' && (tier === 'A' || tier === 'B') ? 0.45 : 0.2);
    const accountManager = grow && owner === null ? `is-${String(rng.int(1, 8)).padStart(2, '0')}` : owner;
    const profile: CustomerProfile = {
      eventId: rng.uuid(),
      occurredAt: signedUpAt,
      customerId: id,
      segment,
      signedUpAt,
      acquisitionCost: Math.round(monthlyMinor * rng.between(2, 14)),
      currency: WORLD_CURRENCY,
      potential: grow ? 'GROW' : 'RETAIN',
      accountManager,
      executiveSponsor: tier === 'A' || (segment === 'B2B' && tier === 'B') ? `exec-${rng.int(1, 4)}` : null,
      plan: segment === 'B2B' ? (tier === 'A' ? 'enterprise' : 'business') : 'plus',
    };
    return {
      index,
      id,
      segment,
      tier,
      monthlyMinor,
      costRatio: rng.chance(0.1) ? rng.between(1.05, 1.3) : rng.between(0.5, 0.8),
      signedUpAt,
      disposition: rng.pick<Disposition>(Object.entries(w.dispositions) as [Disposition, number][]),
      latePayer: rng.chance(0.1),
      accountManager,
      invoiceDay: rng.int(0, 27),
      firstSurveyDays: rng.int(60, 120),
      profile,
    };
  }

  /** Start of month k (0-based; negative months lie before the start). */
  monthStart(k: number): number {
    return this.start + k * MONTH;
  }

  /** NPS survey j of a customer: when it was sent, and the answer (null when unanswered). A pure function of the seed. */
  survey(c: SimCustomer, j: number): { at: number; score: number | null; eventId: string } {
    const rng = new Random(streamSeed(this.parameters.seed, STREAM.survey, c.index, j));
    const at = c.signedUpAt + c.firstSurveyDays * DAY + j * SURVEY_EVERY + 10 * 3_600_000;
    const answers = rng.chance(c.disposition === 'SILENT' ? 0.1 : 0.85);
    const r = rng.next();
    const band =
      c.disposition === 'PROMOTER'
        ? r < 0.85
          ? 'P'
          : 'N'
        : c.disposition === 'DETRACTOR'
          ? r < 0.85
            ? 'D'
            : 'N'
          : c.disposition === 'PASSIVE'
            ? r < 0.7
              ? 'N'
              : r < 0.85
                ? 'P'
                : 'D'
            : 'N';
    const score = band === 'P' ? rng.int(9, 10) : band === 'N' ? rng.int(7, 8) : rng.int(0, 6);
    return { at, score: answers ? score : null, eventId: rng.uuid() };
  }

  /** The customer's cohort at time `at`: its NPS surveys recorded before `at` (from the start of the history) and its tenure. */
  cohortAt(c: SimCustomer, at: number): Cohort {
    const first = c.signedUpAt + c.firstSurveyDays * DAY;
    const historyFrom = this.monthStart(-HISTORY_MONTHS);
    let unanswered = 0;
    let last: number | null = null;
    for (let j = Math.floor((at - first) / SURVEY_EVERY); j >= 0; j--) {
      const s = this.survey(c, j);
      if (s.at >= at) continue;
      if (s.at < historyFrom) break;
      if (s.score !== null) {
        last = s.score;
        break;
      }
      unanswered++;
    }
    const nps: NpsBand =
      unanswered >= this.parameters.silentAfter ? 'SILENT' : last === null ? 'NEVER_ASKED' : npsCategory(last);
    return { segment: c.segment, nps, tenure: tenureBandOf(Math.floor((at - c.signedUpAt) / DAY)) };
  }

  #pending(at: number, event: OfflineEvent, customer: number, unless: number): Pending {
    return { at, rank: RANK.get(event.topic) ?? 0, order: this.#order++, event, customer, unless };
  }

  #add(c: SimCustomer, at: number, topic: OfflineEvent['topic'], value: unknown, unless: number): void {
    this.#queue.push(this.#pending(at, { topic, key: c.id, value }, c.index, unless));
  }

  #invoice(c: SimCustomer, m: number): void {
    const issuedAt = this.monthStart(m) + c.invoiceDay * DAY + 8 * 3_600_000;
    if (issuedAt < c.signedUpAt || issuedAt >= (this.#leavesAt[c.index] as number)) return;
    const rng = new Random(streamSeed(this.parameters.seed, STREAM.invoice, c.index, m + HISTORY_MONTHS));
    const amount = Math.round(c.monthlyMinor * rng.between(0.9, 1.1));
    const base: InvoiceEvent = {
      eventId: rng.uuid(),
      occurredAt: issuedAt,
      invoiceId: `inv-${c.id.slice(-6)}-${m + HISTORY_MONTHS}`,
      customerId: c.id,
      status: 'ISSUED',
      amount,
      currency: WORLD_CURRENCY,
      costToServe: Math.round(amount * c.costRatio),
      issuedAt,
      dueAt: issuedAt + 30 * DAY,
      paidAt: null,
    };
    // An invoice, and its payment, are not issued once the customer has left.
    this.#add(c, issuedAt, 'billing.invoices.v1', base, issuedAt);
    const follow = (at: number, status: InvoiceEvent['status'], paidAt: number | null = null) =>
      this.#add(
        c,
        at,
        'billing.invoices.v1',
        { ...base, eventId: rng.uuid(), occurredAt: at, status, paidAt },
        issuedAt,
      );
    if (c.latePayer && rng.chance(0.5)) {
      const overdueAt = base.dueAt + DAY;
      follow(overdueAt, 'OVERDUE');
      const paidAt = overdueAt + rng.int(5, 30) * DAY;
      follow(paidAt, 'PAID', paidAt);
    } else {
      const paidAt = issuedAt + rng.int(3, 20) * DAY;
      follow(paidAt, 'PAID', paidAt);
    }
  }

  #reason(rng: Random, c: SimCustomer, cohort: Cohort): CancellationReason {
    const unhappy = cohort.nps === 'DETRACTOR' || cohort.nps === 'SILENT';
    return rng.pick<CancellationReason>([
      ['LIFE_CHANGE', cohort.tenure === 'NEW' ? 24 : 18],
      ['PRICE', 24],
      ['SERVICE_ISSUE', unhappy ? 20 : 7],
      ['PRODUCT_GAP', cohort.nps === 'DETRACTOR' ? 14 : 7],
      ['COMPETITOR', unhappy ? 12 : 8],
      ['PAYMENT_PROBLEM', c.latePayer ? 18 : 4],
      ['NO_LONGER_NEEDED', 10],
      ['UNKNOWN', cohort.nps === 'SILENT' ? 10 : 4],
    ]);
  }

  /**
   * Draws what happens in month k (the first month also carries the history before the
   * start): profiles, invoices, NPS surveys and cancellations, queued for `next`. Returns
   * the month's cancellations. Months must be drawn in order, each once the previous
   * month's cancellations were settled.
   */
  month(k: number): SimCancellation[] {
    if (k !== this.#next) throw new Error(`month ${k} asked for, month ${this.#next} expected`);
    this.#next++;
    const from = k === 0 ? Number.NEGATIVE_INFINITY : this.monthStart(k);
    const to = this.monthStart(k + 1);
    const historyFrom = this.monthStart(-HISTORY_MONTHS);
    const cancellations: SimCancellation[] = [];
    for (const c of this.customers) {
      // A profile is recorded when the customer signs up, or at the start of the history for older customers.
      const profileAt = Math.max(c.signedUpAt, historyFrom - DAY);
      if (profileAt >= from && profileAt < to)
        this.#add(
          c,
          profileAt,
          'customer.profiles.v1',
          { ...c.profile, occurredAt: profileAt },
          Number.NEGATIVE_INFINITY,
        );
      for (let m = k === 0 ? -HISTORY_MONTHS : k; m <= k; m++) this.#invoice(c, m);
      if ((this.#leavesAt[c.index] as number) !== Number.POSITIVE_INFINITY) continue;
      // NPS surveys sent this month.
      const first = c.signedUpAt + c.firstSurveyDays * DAY;
      const lo = Math.max(from, historyFrom);
      for (let j = Math.max(0, Math.floor((lo - first) / SURVEY_EVERY) - 1); ; j++) {
        const s = this.survey(c, j);
        if (s.at >= to) break;
        if (s.at < lo) continue;
        const result: SurveyResult = {
          eventId: s.eventId,
          occurredAt: s.at,
          surveyId: `srv-${c.id.slice(-6)}-nps-${j}`,
          customerId: c.id,
          kind: 'NPS',
          status: s.score === null ? 'UNANSWERED' : 'ANSWERED',
          score: s.score,
          comment: null,
        };
        this.#add(c, s.at, 'customer.surveys.v1', result, s.at);
      }
      // A cancellation, drawn from the true hazard of the customer's cohort at that moment;
      // early enough in the month for its outcome to be known before the month ends.
      const rng = new Random(streamSeed(this.parameters.seed, STREAM.month, c.index, k));
      const at = this.monthStart(k) + Math.floor(rng.between(0, 24 * DAY));
      if (at < c.signedUpAt + 60 * DAY) continue;
      const cohort = this.cohortAt(c, at);
      if (!rng.chance(trueHazard(this.parameters, cohort))) continue;
      const reason = this.#reason(rng, c, cohort);
      const cancellation: CancellationRequested = {
        eventId: rng.uuid(),
        occurredAt: at,
        cancellationId: `canc-${c.id.slice(-6)}-${k}`,
        customerId: c.id,
        subscriptionId: `sub-${c.id.slice(-6)}`,
        effectiveAt: at + rng.int(14, 45) * DAY,
        channel: rng.pick(CHANNEL_WEIGHTS),
        reason,
        reasonText: null,
      };
      this.#add(c, at, 'customer.cancellations.v1', cancellation, Number.NEGATIVE_INFINITY);
      cancellations.push({
        eventId: cancellation.eventId,
        customerId: c.id,
        customerIndex: c.index,
        month: k,
        at,
        effectiveAt: cancellation.effectiveAt as number,
        reason,
        cohort,
        trueMonthlyMargin: trueMonthlyMargin(c),
      });
    }
    this.#queue = this.#queue.slice(this.#head);
    this.#head = 0;
    this.#queue.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return cancellations;
  }

  /** The next event before `until`, in event-time order, or undefined when there is none. */
  next(until: number): OfflineEvent | undefined {
    const head = this.#queue[this.#head];
    if (head === undefined || head.at >= until) return undefined;
    this.#head++;
    return head.event;
  }

  /** Every event before `until`, in event-time order. */
  drain(until: number): OfflineEvent[] {
    const out: OfflineEvent[] = [];
    for (let e = this.next(until); e !== undefined; e = this.next(until)) out.push(e);
    return out;
  }

  /** Adds an event to come (a task's outcome about the cancelling customer). */
  schedule(cancellation: SimCancellation, at: number, event: OfflineEvent): void {
    const p = this.#pending(at, event, cancellation.customerIndex, Number.NEGATIVE_INFINITY);
    let lo = this.#head;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.#queue[mid] as Pending, p)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, p);
  }

  /**
   * Whether a cancelling customer stays. One who does not leaves when the cancellation
   * takes effect: nothing of it happens from then on (invoices, surveys) and it never
   * cancels again.
   */
  settle(cancellation: SimCancellation, saved: boolean): void {
    if (saved) return;
    const leaves = cancellation.effectiveAt;
    this.#leavesAt[cancellation.customerIndex] = leaves;
    this.#queue = this.#queue
      .slice(this.#head)
      .filter((p) => p.customer !== cancellation.customerIndex || p.unless < leaves);
    this.#head = 0;
  }

  /** A random stream for the outcome of a cancellation's retention tasks. */
  outcomeRandom(cancellation: SimCancellation): Random {
    return new Random(streamSeed(this.parameters.seed, STREAM.outcome, cancellation.customerIndex, cancellation.month));
  }
}
