/**
 * The decision policy: every number of the business rules, read once from a versioned
 * JSON file (`policies/default.json`), validated, frozen, and compiled into the lookup
 * tables the processors use on the hot path. Nothing here reads files: the runner reads
 * the JSON and hands it to {@link loadPolicy}.
 */
import {
  type CancellationReason,
  CancellationReasonValues,
  ChurnError,
  type Offer,
  type Priority,
  PriorityValues,
  type Segment,
  SegmentValues,
  type TaskOutcomeKind,
  TaskOutcomeKindValues,
  type Tier,
  TierValues,
  type Track,
} from '@churn/contracts';
import { z } from 'zod';

const share = z
  .number({ error: 'must be a number' })
  .min(0, { error: 'must be between 0 and 1' })
  .max(1, { error: 'must be between 0 and 1' });
const positive = z.number({ error: 'must be a number' }).positive({ error: 'must be greater than 0' });
const nonNegative = z.number({ error: 'must be a number' }).min(0, { error: 'must be 0 or more' });
const count = z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' });
const priority = z.enum(PriorityValues, { error: `must be one of ${PriorityValues.join(', ')}` });
const tier = z.enum(TierValues, { error: `must be one of ${TierValues.join(', ')}` });
const segment = z.enum(SegmentValues, { error: `must be one of ${SegmentValues.join(', ')}` });
const reason = z.enum(CancellationReasonValues, { error: `must be one of ${CancellationReasonValues.join(', ')}` });
const outcome = z.enum(TaskOutcomeKindValues, { error: `must be one of ${TaskOutcomeKindValues.join(', ')}` });

/** Offers a policy may weigh: every offer except the escalation (a treatment, not a priced offer) and NONE. */
export const WeighableOfferValues = [
  'PAUSE',
  'DOWNGRADE',
  'LOYALTY_BONUS',
  'PAYMENT_PLAN',
  'SERVICE_RECOVERY',
  'ACCOUNT_MANAGER_MEETING',
] as const satisfies readonly Offer[];
export type WeighableOffer = (typeof WeighableOfferValues)[number];

const offerRule = z.strictObject({
  probability: share,
  /** Only customers with at least this many years of tenure are eligible. */
  minTenureYears: nonNegative.optional(),
  /** Only customers of this segment are eligible. */
  segment: segment.optional(),
  /** Only customers with a named owner (account manager) are eligible. */
  requiresOwner: z.boolean({ error: 'must be true or false' }).optional(),
});
export type OfferRule = z.infer<typeof offerRule>;

const offerCost = z.discriminatedUnion(
  'basis',
  [
    z.strictObject({ basis: z.literal('margin'), share, months: positive }),
    z.strictObject({ basis: z.literal('revenue'), share, months: positive }),
    z.strictObject({ basis: z.literal('fixed'), amount: nonNegative }),
  ],
  { error: 'basis must be margin, revenue or fixed' },
);
export type OfferCost = z.infer<typeof offerCost>;

const programEntry = z.strictObject({
  every: count,
  unit: z.enum(['weeks', 'months'], { error: 'must be weeks or months' }),
  owner: z.enum(['accountManager', 'insideSalesOwner', 'insideSales', 'automated'], {
    error: 'must be accountManager, insideSalesOwner, insideSales or automated',
  }),
  alertWhenNotFollowed: z.boolean({ error: 'must be true or false' }),
  priority,
});
export type ProgramEntry = z.infer<typeof programEntry>;
export type ProgramOwner = ProgramEntry['owner'];

const tierThresholds = z
  .strictObject({ A: nonNegative, B: nonNegative, C: nonNegative })
  .refine((t) => t.A >= t.B && t.B >= t.C, { error: 'thresholds must satisfy A >= B >= C' });

const byPriority = z.strictObject({ P1: positive, P2: positive, P3: positive, P4: positive });
const byTier = z.strictObject({ A: priority, B: priority, C: priority, D: priority });

const offersByReason = z.partialRecord(reason, z.partialRecord(z.enum(WeighableOfferValues), offerRule));

export const PolicySchema = z.strictObject({
  version: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }),
  money: z.strictObject({
    minorUnitsPerMajor: z.record(z.string(), count).refine((m) => m.default !== undefined, {
      error: 'must have a default entry',
    }),
    currencyWhenUnknown: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code' }),
  }),
  tiers: z.strictObject({ B2B: tierThresholds, B2C: tierThresholds, segmentWhenUnknown: segment }),
  value: z.strictObject({
    windowMonths: count,
    invoiceMemoryExtraMonths: z.int().min(0, { error: 'must be 0 or more' }),
    defaultGrossMarginRate: share,
    monthlyChurnRate: z
      .number()
      .gt(0, { error: 'must be between 0 (exclusive) and 1' })
      .max(1, { error: 'must be between 0 (exclusive) and 1' }),
    remainingMonthsCap: positive,
    surveyMemory: count,
    silence: z.strictObject({
      repeatedAfter: count,
      churnRateFactor: z.number().min(1, { error: 'must be 1 or more' }),
    }),
  }),
  offers: offersByReason,
  offerCosts: z.strictObject(
    Object.fromEntries(WeighableOfferValues.map((o) => [o, offerCost])) as Record<WeighableOffer, typeof offerCost>,
  ),
  contactCost: nonNegative,
  decision: z.strictObject({
    humanDialogueTiers: z.array(tier),
    escalationReasons: z.array(reason),
    winBackPriority: byTier,
    offboardingPriority: priority,
  }),
  respondWithinHours: byPriority,
  owners: z.strictObject({ salesMarketing: z.string().min(1), management: z.string().min(1) }),
  program: z.strictObject({
    'A-GROW': programEntry,
    'A-RETAIN': programEntry,
    'B-GROW': programEntry,
    'B-RETAIN': programEntry,
    'C-GROW': programEntry,
    'C-RETAIN': programEntry,
    'D-GROW': programEntry,
    'D-RETAIN': programEntry,
  }),
  grace: z.strictObject({ shareOfCadence: share, minDays: nonNegative }),
  surveys: z.strictObject({
    nps: z
      .strictObject({
        detractorMax: z.int().min(0).max(10, { error: 'must be between 0 and 10' }),
        passiveMax: z.int().min(0).max(10, { error: 'must be between 0 and 10' }),
      })
      .refine((n) => n.passiveMax >= n.detractorMax, { error: 'passiveMax must be >= detractorMax' }),
    referralTiers: z.array(tier),
    highValueTiers: z.array(tier),
    silentAlertTiers: z.array(tier),
    referralPriority: priority,
    highValueDetractorPriority: priority,
    lowValueDetractorPriority: priority,
    otherDetractorPriority: priority,
  }),
  invoices: z.strictObject({ followUpTiers: z.array(tier), riskAlertTiers: z.array(tier), followUpPriority: byTier }),
  dialogues: z.strictObject({
    tiers: z.array(tier),
    segments: z.array(segment),
    deadlineDays: positive,
    priority,
  }),
  structural: z.strictObject({ reasons: z.array(reason), minCustomers: count, windowDays: positive }),
  learning: z.strictObject({
    /** Off, decisions use the priors only and nothing waits for the learning stage. */
    enabled: z.boolean({ error: 'must be true or false' }),
    saveRates: z.strictObject({ priorStrength: nonNegative, maxProbability: share }),
    cohorts: z.strictObject({
      priorStrength: nonNegative,
      multiplierBounds: z
        .tuple([positive, positive])
        .refine(([lo, hi]) => lo <= 1 && hi >= 1, { error: 'must be [low, high] with low <= 1 <= high' }),
    }),
    hazard: z.strictObject({ priorStrengthMonths: nonNegative }),
    tenureBandsMonths: z
      .array(positive)
      .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] as number)), { error: 'must be increasing' }),
    savedOutcomes: z.array(outcome),
    lostOutcomes: z.array(outcome),
    forgetOpenTasksAfterDays: positive,
  }),
  /**
   * A policy experiment: customers are split into arms by a stable hash of their
   * customerId; each arm decides with the policy and its overrides (merged key by key).
   */
  experiment: z
    .strictObject({
      name: z.string().min(1),
      arms: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            share: share,
            overrides: z.record(z.string(), z.unknown()).optional(),
          }),
        )
        .min(2, { error: 'must have at least two arms' })
        .refine((arms) => Math.abs(arms.reduce((s, a) => s + a.share, 0) - 1) < 1e-9, {
          error: 'shares must add up to 1',
        })
        .refine((arms) => new Set(arms.map((a) => a.name)).size === arms.length, { error: 'arm names must differ' }),
    })
    .nullable()
    .default(null),
  /** A candidate policy (the overrides, merged key by key) that decides alongside and publishes only its decisions. */
  shadow: z
    .strictObject({ overrides: z.record(z.string(), z.unknown()) })
    .nullable()
    .default(null),
  dedup: z.strictObject({ recentEvents: count }),
});

/** The policy as written in the file. */
export type PolicyDocument = z.infer<typeof PolicySchema>;

/** One offer a reason allows, compiled for the hot path. */
export interface CompiledOffer {
  readonly offer: WeighableOffer;
  readonly probability: number;
  readonly minTenureDays: number;
  readonly segment: Segment | null;
  readonly requiresOwner: boolean;
  /** Cost = marginFactor x margin12m + revenueFactor x revenue12m + fixedMajor x minor units per major. */
  readonly marginFactor: number;
  readonly revenueFactor: number;
  readonly fixedMajor: number;
}

/** Tables derived from the document once, at load. */
export interface PolicyTables {
  readonly offersByReason: Readonly<Record<CancellationReason, readonly CompiledOffer[]>>;
  readonly respondWithinMs: Readonly<Record<Priority, number>>;
  readonly escalationReasons: ReadonlySet<CancellationReason>;
  readonly humanDialogueTiers: ReadonlySet<Tier>;
  readonly savedOutcomes: ReadonlySet<TaskOutcomeKind>;
  readonly lostOutcomes: ReadonlySet<TaskOutcomeKind>;
  readonly structuralReasons: ReadonlySet<CancellationReason>;
  /** Expected remaining months for a customer who is not repeatedly silent, and for one who is. */
  readonly remainingMonths: number;
  readonly remainingMonthsWhenSilent: number;
  /** The follow-up program by tier and track. */
  readonly program: Readonly<Record<Tier, Readonly<Record<Track, ProgramEntry>>>>;
  /** The experiment's arms, each with its policy and the upper bound of its bucket (0-1); empty without one. */
  readonly arms: readonly ExperimentArm[];
  /** The shadow policy, if any. */
  readonly shadow: Policy | null;
}

export interface ExperimentArm {
  readonly name: string;
  /** Customers whose bucket (0-1) is below this and at or above the previous arm's are in this arm. */
  readonly upTo: number;
  readonly policy: Policy;
}

/** A loaded, validated and frozen policy. */
export type Policy = Readonly<PolicyDocument> & { readonly tables: PolicyTables };

const HOUR = 3_600_000;
const DAYS_PER_YEAR = 365;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    if (value instanceof Set) return value;
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

function compileOffers(doc: PolicyDocument): Record<CancellationReason, CompiledOffer[]> {
  const out = {} as Record<CancellationReason, CompiledOffer[]>;
  for (const reasonName of CancellationReasonValues) {
    const rules = doc.offers[reasonName] ?? {};
    const compiled: CompiledOffer[] = [];
    for (const offer of WeighableOfferValues) {
      const rule = rules[offer];
      if (!rule) continue;
      const cost = doc.offerCosts[offer];
      compiled.push({
        offer,
        probability: rule.probability,
        minTenureDays: (rule.minTenureYears ?? 0) * DAYS_PER_YEAR,
        segment: rule.segment ?? null,
        requiresOwner: rule.requiresOwner ?? false,
        marginFactor: cost.basis === 'margin' ? (cost.share * cost.months) / doc.value.windowMonths : 0,
        revenueFactor: cost.basis === 'revenue' ? (cost.share * cost.months) / doc.value.windowMonths : 0,
        fixedMajor: cost.basis === 'fixed' ? cost.amount : 0,
      });
    }
    // The order of the file decides ties, so keep it rather than the enum order.
    const order = Object.keys(rules);
    compiled.sort((a, b) => order.indexOf(a.offer) - order.indexOf(b.offer));
    out[reasonName] = compiled;
  }
  return out;
}

/**
 * Validates a policy document and returns it frozen, with its lookup tables compiled.
 * Throws a `ChurnError` with code `CHURN_CONFIG_INVALID` whose message names every bad
 * key, e.g. `offers.PRICE.DOWNGRADE.probability: must be between 0 and 1`.
 */
export function loadPolicy(json: unknown): Policy {
  const parsed = PolicySchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(policy)'}: ${issue.message}`,
    );
    throw new ChurnError('CHURN_CONFIG_INVALID', `invalid policy: ${problems.join('; ')}`);
  }
  const doc = parsed.data;
  // Arms and the shadow are the same policy with overrides; they run no experiment of their own.
  const variant = (overrides: Record<string, unknown> | undefined, where: string): Policy => {
    const base = { ...(json as Record<string, unknown>), experiment: null, shadow: null };
    try {
      return loadPolicy(mergeDocuments(base, overrides ?? {}));
    } catch (err) {
      throw new ChurnError('CHURN_CONFIG_INVALID', `${where}: ${(err as Error).message}`);
    }
  };
  let upTo = 0;
  const arms: ExperimentArm[] = (doc.experiment?.arms ?? []).map((arm, i, all) => {
    upTo = i === all.length - 1 ? 1 : upTo + arm.share;
    return { name: arm.name, upTo, policy: variant(arm.overrides, `experiment.arms.${i}`) };
  });
  const shadow = doc.shadow === null ? null : variant(doc.shadow.overrides, 'shadow');
  const silentChurn = Math.min(1, doc.value.monthlyChurnRate * doc.value.silence.churnRateFactor);
  const tables: PolicyTables = {
    offersByReason: compileOffers(doc),
    respondWithinMs: {
      P1: doc.respondWithinHours.P1 * HOUR,
      P2: doc.respondWithinHours.P2 * HOUR,
      P3: doc.respondWithinHours.P3 * HOUR,
      P4: doc.respondWithinHours.P4 * HOUR,
    },
    escalationReasons: new Set(doc.decision.escalationReasons),
    humanDialogueTiers: new Set(doc.decision.humanDialogueTiers),
    savedOutcomes: new Set(doc.learning.savedOutcomes),
    lostOutcomes: new Set(doc.learning.lostOutcomes),
    structuralReasons: new Set(doc.structural.reasons),
    remainingMonths: Math.min(doc.value.remainingMonthsCap, 1 / doc.value.monthlyChurnRate),
    remainingMonthsWhenSilent: Math.min(doc.value.remainingMonthsCap, 1 / silentChurn),
    program: {
      A: { GROW: doc.program['A-GROW'], RETAIN: doc.program['A-RETAIN'] },
      B: { GROW: doc.program['B-GROW'], RETAIN: doc.program['B-RETAIN'] },
      C: { GROW: doc.program['C-GROW'], RETAIN: doc.program['C-RETAIN'] },
      D: { GROW: doc.program['D-GROW'], RETAIN: doc.program['D-RETAIN'] },
    },
    arms,
    shadow,
  };
  return deepFreeze({ ...doc, tables });
}

/**
 * A policy document with overrides merged in: objects key by key, anything else (numbers,
 * strings, arrays) replaced whole.
 */
export function mergeDocuments(base: unknown, overrides: unknown): unknown {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(base) || !isObject(overrides)) return overrides === undefined ? base : overrides;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) out[key] = mergeDocuments(base[key], value);
  return out;
}

/** Minor units (cents, øre) per major unit of a currency, per the policy. */
export function minorUnitsOf(policy: Policy, currency: string): number {
  return policy.money.minorUnitsPerMajor[currency] ?? policy.money.minorUnitsPerMajor.default ?? 100;
}

/** The follow-up program entry of a tier and track (table in docs/policy.md, "The follow-up program"). */
export function programOf(policy: Policy, tierName: Tier, track: Track): ProgramEntry {
  return policy.tables.program[tierName][track];
}
