// Generated from schemas/*.avsc by packages/contracts/scripts/generate.ts. Do not edit.

/**
 * Kind of alert. Readers that meet a newer symbol read it as PROGRAM_NOT_FOLLOWED.
 * @default PROGRAM_NOT_FOLLOWED (what readers use for a symbol they do not know)
 */
export const AlertKindValues = ['HIGH_VALUE_AT_RISK', 'HIGH_VALUE_DETRACTOR', 'EARLY_TENURE_CANCELLATION', 'PROGRAM_NOT_FOLLOWED', 'PAYMENT_RISK', 'SILENT_CUSTOMER', 'STRUCTURAL_ISSUE', 'DIALOGUE_OVERDUE'] as const;
export type AlertKind = (typeof AlertKindValues)[number];
export type AlertKindInput = AlertKind;

/** Retention outcomes of one experiment arm. */
export interface ArmTally {
  arm: string;
  saves: number;
  tries: number;
}

/** ArmTally as a producer may write it: fields with a default may be left out. */
export interface ArmTallyInput {
  arm: string;
  saves: number;
  tries: number;
}

/**
 * Where the customer asked to cancel.
 * @default OTHER (what readers use for a symbol they do not know)
 */
export const CancellationChannelValues = ['PHONE', 'WEB', 'EMAIL', 'CHAT', 'OTHER'] as const;
export type CancellationChannel = (typeof CancellationChannelValues)[number];
export type CancellationChannelInput = CancellationChannel;

/**
 * Why the customer cancels, as recorded by the channel.
 * @default UNKNOWN (what readers use for a symbol they do not know)
 */
export const CancellationReasonValues = ['LIFE_CHANGE', 'PRICE', 'SERVICE_ISSUE', 'PRODUCT_GAP', 'COMPETITOR', 'PAYMENT_PROBLEM', 'NO_LONGER_NEEDED', 'UNKNOWN'] as const;
export type CancellationReason = (typeof CancellationReasonValues)[number];
export type CancellationReasonInput = CancellationReason;

/** A customer asked to cancel. */
export interface CancellationRequested {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  cancellationId: string;
  /** The customer; also the record key. */
  customerId: string;
  /** @default null */
  subscriptionId: string | null;
  /**
   * When the cancellation takes effect, if known.
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  effectiveAt: number | null;
  /** @default "OTHER" */
  channel: CancellationChannel;
  /** @default "UNKNOWN" */
  reason: CancellationReason;
  /**
   * The customer's own words. Personal data: never logged.
   * @default null
   */
  reasonText: string | null;
}

/** CancellationRequested as a producer may write it: fields with a default may be left out. */
export interface CancellationRequestedInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  cancellationId: string;
  /** The customer; also the record key. */
  customerId: string;
  /** @default null */
  subscriptionId?: string | null | undefined;
  /**
   * When the cancellation takes effect, if known.
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  effectiveAt?: number | null | undefined;
  /** @default "OTHER" */
  channel?: CancellationChannelInput | undefined;
  /** @default "UNKNOWN" */
  reason?: CancellationReasonInput | undefined;
  /**
   * The customer's own words. Personal data: never logged.
   * @default null
   */
  reasonText?: string | null | undefined;
}

/**
 * How urgent an alert is.
 * @default WARNING (what readers use for a symbol they do not know)
 */
export const SeverityValues = ['INFO', 'WARNING', 'CRITICAL'] as const;
export type Severity = (typeof SeverityValues)[number];
export type SeverityInput = Severity;

/** Something a person must know about now. */
export interface ChurnAlert {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  alertId: string;
  /** eventId of the input that caused this alert. */
  causationId: string;
  kind: AlertKind;
  severity: Severity;
  /**
   * The customer; none for STRUCTURAL_ISSUE.
   * @default null
   */
  customerId: string | null;
  /** Who must act: an owner id, inside-sales, management, sales-marketing, ... */
  owner: string;
  /** What happened, in plain language. */
  message: string;
}

/** ChurnAlert as a producer may write it: fields with a default may be left out. */
export interface ChurnAlertInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  alertId: string;
  /** eventId of the input that caused this alert. */
  causationId: string;
  kind: AlertKindInput;
  severity: SeverityInput;
  /**
   * The customer; none for STRUCTURAL_ISSUE.
   * @default null
   */
  customerId?: string | null | undefined;
  /** Who must act: an owner id, inside-sales, management, sales-marketing, ... */
  owner: string;
  /** What happened, in plain language. */
  message: string;
}

/**
 * What the pipeline decided to do about a cancellation.
 * @default GRACEFUL_OFFBOARDING (what readers use for a symbol they do not know)
 */
export const DecisionActionValues = ['WIN_BACK', 'GRACEFUL_OFFBOARDING'] as const;
export type DecisionAction = (typeof DecisionActionValues)[number];
export type DecisionActionInput = DecisionAction;

/**
 * A retention offer; NONE when no offer is made.
 * @default NONE (what readers use for a symbol they do not know)
 */
export const OfferValues = ['PAUSE', 'DOWNGRADE', 'LOYALTY_BONUS', 'PAYMENT_PLAN', 'SERVICE_RECOVERY', 'ACCOUNT_MANAGER_MEETING', 'EXECUTIVE_ESCALATION', 'NONE'] as const;
export type Offer = (typeof OfferValues)[number];
export type OfferInput = Offer;

/**
 * Customer tier by revenue over the last 12 months.
 * @default D (what readers use for a symbol they do not know)
 */
export const TierValues = ['A', 'B', 'C', 'D'] as const;
export type Tier = (typeof TierValues)[number];
export type TierInput = Tier;

/**
 * Follow-up track by potential.
 * @default RETAIN (what readers use for a symbol they do not know)
 */
export const TrackValues = ['GROW', 'RETAIN'] as const;
export type Track = (typeof TrackValues)[number];
export type TrackInput = Track;

/** One offer the policy weighed for a decision. */
export interface OfferEvaluation {
  offer: Offer;
  /** Save probability used for this offer (0-1). */
  probability: number;
  /** p x (remaining lifetime value - offer cost) - contact cost. Minor units. */
  expectedValue: number;
  /**
   * The policy's prior save probability for this reason and offer (0-1); null on records from before the pipeline learned.
   * @default null
   */
  prior: number | null;
  /**
   * Retention outcomes of this reason and offer counted as saves in the learning snapshot the decision used.
   * @default 0
   */
  observedSaves: number;
  /**
   * Retention outcomes of this reason and offer counted at all (saves and losses) in that snapshot.
   * @default 0
   */
  observedTries: number;
  /**
   * The learned multiplier of the customer's cohort on the save probability (1: responds as the average); null when none was applied.
   * @default null
   */
  cohortMultiplier: number | null;
}

/** OfferEvaluation as a producer may write it: fields with a default may be left out. */
export interface OfferEvaluationInput {
  offer: OfferInput;
  /** Save probability used for this offer (0-1). */
  probability: number;
  /** p x (remaining lifetime value - offer cost) - contact cost. Minor units. */
  expectedValue: number;
  /**
   * The policy's prior save probability for this reason and offer (0-1); null on records from before the pipeline learned.
   * @default null
   */
  prior?: number | null | undefined;
  /**
   * Retention outcomes of this reason and offer counted as saves in the learning snapshot the decision used.
   * @default 0
   */
  observedSaves?: number | undefined;
  /**
   * Retention outcomes of this reason and offer counted at all (saves and losses) in that snapshot.
   * @default 0
   */
  observedTries?: number | undefined;
  /**
   * The learned multiplier of the customer's cohort on the save probability (1: responds as the average); null when none was applied.
   * @default null
   */
  cohortMultiplier?: number | null | undefined;
}

/**
 * Business or consumer customer. Readers that meet a newer symbol read it as B2C, which assumes no account manager.
 * @default B2C (what readers use for a symbol they do not know)
 */
export const SegmentValues = ['B2B', 'B2C'] as const;
export type Segment = (typeof SegmentValues)[number];
export type SegmentInput = Segment;

/** What a customer is worth, as kept by the pipeline from profile, invoice, survey and outcome events. */
export interface CustomerValue {
  /** The customer; also the record key. */
  customerId: string;
  /**
   * Event time of the newest fact in this snapshot.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  asOf: number;
  /** ISO 4217 currency code. */
  currency: string;
  /** Invoiced revenue over the last 12 months, net of credits and write-offs. Minor units. */
  revenue12m: number;
  /** Revenue minus cost to serve over the last 12 months; can be negative. Minor units. */
  margin12m: number;
  tier: Tier;
  track: Track;
  /** Days since sign-up. */
  tenureDays: number;
  /** What it cost to win the customer (CAC). Minor units (cents, øre). */
  acquisitionCost: number;
  /** Margin earned since sign-up. Minor units. */
  cumulativeMargin: number;
  /** Whether cumulative margin has reached the acquisition cost. */
  paybackReached: boolean;
  /** Monthly margin times expected remaining months. Minor units. */
  remainingLifetimeValue: number;
  /** Invoices currently overdue. */
  overdueInvoices: number;
  /**
   * Most recent NPS score (0-10), if any.
   * @default null
   */
  lastNps: number | null;
  /** Surveys in a row the customer left unanswered. */
  unansweredSurveys: number;
  /**
   * Unique per snapshot; consumers de-duplicate on it.
   * @default null
   */
  eventId: string | null;
  /**
   * eventId of the input that caused this snapshot.
   * @default null
   */
  causationId: string | null;
  /**
   * B2B or B2C, from the profile; null before a profile is known.
   * @default null
   */
  segment: Segment | null;
  /**
   * Owner id of the named account manager or inside-sales owner, from the profile.
   * @default null
   */
  accountManager: string | null;
  /**
   * Owner id of the executive sponsor, from the profile.
   * @default null
   */
  executiveSponsor: string | null;
  /**
   * When the customer signed up, from the profile.
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  signedUpAt: number | null;
}

/** CustomerValue as a producer may write it: fields with a default may be left out. */
export interface CustomerValueInput {
  /** The customer; also the record key. */
  customerId: string;
  /**
   * Event time of the newest fact in this snapshot.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  asOf: number;
  /** ISO 4217 currency code. */
  currency: string;
  /** Invoiced revenue over the last 12 months, net of credits and write-offs. Minor units. */
  revenue12m: number;
  /** Revenue minus cost to serve over the last 12 months; can be negative. Minor units. */
  margin12m: number;
  tier: TierInput;
  track: TrackInput;
  /** Days since sign-up. */
  tenureDays: number;
  /** What it cost to win the customer (CAC). Minor units (cents, øre). */
  acquisitionCost: number;
  /** Margin earned since sign-up. Minor units. */
  cumulativeMargin: number;
  /** Whether cumulative margin has reached the acquisition cost. */
  paybackReached: boolean;
  /** Monthly margin times expected remaining months. Minor units. */
  remainingLifetimeValue: number;
  /** Invoices currently overdue. */
  overdueInvoices: number;
  /**
   * Most recent NPS score (0-10), if any.
   * @default null
   */
  lastNps?: number | null | undefined;
  /** Surveys in a row the customer left unanswered. */
  unansweredSurveys: number;
  /**
   * Unique per snapshot; consumers de-duplicate on it.
   * @default null
   */
  eventId?: string | null | undefined;
  /**
   * eventId of the input that caused this snapshot.
   * @default null
   */
  causationId?: string | null | undefined;
  /**
   * B2B or B2C, from the profile; null before a profile is known.
   * @default null
   */
  segment?: SegmentInput | null | undefined;
  /**
   * Owner id of the named account manager or inside-sales owner, from the profile.
   * @default null
   */
  accountManager?: string | null | undefined;
  /**
   * Owner id of the executive sponsor, from the profile.
   * @default null
   */
  executiveSponsor?: string | null | undefined;
  /**
   * When the customer signed up, from the profile.
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  signedUpAt?: number | null | undefined;
}

/**
 * Task priority: P1 within 24 hours, P2 within 3 days, P3 within 7 days, P4 within 14 days.
 * @default P4 (what readers use for a symbol they do not know)
 */
export const PriorityValues = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PriorityValues)[number];
export type PriorityInput = Priority;

/** The pipeline's decision on a cancellation, with everything needed to explain it. */
export interface ChurnDecision {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  decisionId: string;
  /** The customer; also the record key. */
  customerId: string;
  cancellationId: string;
  /** eventId of the cancellation that caused this decision. */
  causationId: string;
  action: DecisionAction;
  offer: Offer;
  tier: Tier;
  track: Track;
  /** Expected value of the chosen offer; 0 when none. Minor units. */
  expectedValue: number;
  /** Every offer the policy weighed, with its probability and expected value. */
  offersWeighed: OfferEvaluation[];
  /** Plain-language reasons an agent can read aloud. */
  reasons: string[];
  /** Version of the policy that decided. */
  policyVersion: string;
  /**
   * Latest time to respond; never after the cancellation's effective date.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  respondBy: number;
  /** The customer value snapshot the decision used. */
  value: CustomerValue;
  /**
   * The cancellation's reason, for dashboards.
   * @default null
   */
  reason: CancellationReason | null;
  /**
   * Priority of the decision's first task.
   * @default null
   */
  priority: Priority | null;
  /**
   * The experiment arm the customer is in (a stable hash of the customerId); null when no experiment runs.
   * @default null
   */
  arm: string | null;
  /**
   * The customer's cohort for learning: segment, NPS band and tenure band, e.g. B2B:detractor:6-24m.
   * @default null
   */
  cohort: string | null;
  /**
   * The monthly churn hazard the remaining lifetime value used for the cohort, learned from the stream with the policy's rate as prior.
   * @default null
   */
  monthlyChurnHazard: number | null;
  /**
   * The midnight of the learning snapshot the decision used: every outcome and cancellation before it, across partitions, and nothing after.
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  learnedAsOf: number | null;
}

/** ChurnDecision as a producer may write it: fields with a default may be left out. */
export interface ChurnDecisionInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  decisionId: string;
  /** The customer; also the record key. */
  customerId: string;
  cancellationId: string;
  /** eventId of the cancellation that caused this decision. */
  causationId: string;
  action: DecisionActionInput;
  offer: OfferInput;
  tier: TierInput;
  track: TrackInput;
  /** Expected value of the chosen offer; 0 when none. Minor units. */
  expectedValue: number;
  /** Every offer the policy weighed, with its probability and expected value. */
  offersWeighed: OfferEvaluationInput[];
  /** Plain-language reasons an agent can read aloud. */
  reasons: string[];
  /** Version of the policy that decided. */
  policyVersion: string;
  /**
   * Latest time to respond; never after the cancellation's effective date.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  respondBy: number;
  /** The customer value snapshot the decision used. */
  value: CustomerValueInput;
  /**
   * The cancellation's reason, for dashboards.
   * @default null
   */
  reason?: CancellationReasonInput | null | undefined;
  /**
   * Priority of the decision's first task.
   * @default null
   */
  priority?: PriorityInput | null | undefined;
  /**
   * The experiment arm the customer is in (a stable hash of the customerId); null when no experiment runs.
   * @default null
   */
  arm?: string | null | undefined;
  /**
   * The customer's cohort for learning: segment, NPS band and tenure band, e.g. B2B:detractor:6-24m.
   * @default null
   */
  cohort?: string | null | undefined;
  /**
   * The monthly churn hazard the remaining lifetime value used for the cohort, learned from the stream with the policy's rate as prior.
   * @default null
   */
  monthlyChurnHazard?: number | null | undefined;
  /**
   * The midnight of the learning snapshot the decision used: every outcome and cancellation before it, across partitions, and nothing after.
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  learnedAsOf?: number | null | undefined;
}

/** Cancellations of one cohort and the customer-months it was at risk. */
export interface CohortExposure {
  cohort: string;
  cancellations: number;
  exposureMonths: number;
}

/** CohortExposure as a producer may write it: fields with a default may be left out. */
export interface CohortExposureInput {
  cohort: string;
  cancellations: number;
  exposureMonths: number;
}

/**
 * Kind of contact task. Readers that meet a newer symbol read it as FOLLOW_UP.
 * @default FOLLOW_UP (what readers use for a symbol they do not know)
 */
export const TaskKindValues = ['RETENTION_CALL', 'OFFBOARDING_CALL', 'THANK_YOU_MESSAGE', 'EXIT_SURVEY', 'FOLLOW_UP', 'SERVICE_RECOVERY', 'PAYMENT_FOLLOW_UP', 'REFERRAL_REQUEST'] as const;
export type TaskKind = (typeof TaskKindValues)[number];
export type TaskKindInput = TaskKind;

/** Work for a person (or an automated flow) in the contact center. */
export interface ContactTask {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  taskId: string;
  /** The customer; also the record key. */
  customerId: string;
  /** eventId of the input that caused this task. */
  causationId: string;
  kind: TaskKind;
  /** owner:<id>, inside-sales, contact-center or automated. */
  queue: string;
  priority: Priority;
  /** Epoch milliseconds (Avro timestamp-millis). */
  dueAt: number;
  /** @default "NONE" */
  offer: Offer;
  /** What to do, in plain language. */
  instructions: string;
}

/** ContactTask as a producer may write it: fields with a default may be left out. */
export interface ContactTaskInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  taskId: string;
  /** The customer; also the record key. */
  customerId: string;
  /** eventId of the input that caused this task. */
  causationId: string;
  kind: TaskKindInput;
  /** owner:<id>, inside-sales, contact-center or automated. */
  queue: string;
  priority: PriorityInput;
  /** Epoch milliseconds (Avro timestamp-millis). */
  dueAt: number;
  /** @default "NONE" */
  offer?: OfferInput | undefined;
  /** What to do, in plain language. */
  instructions: string;
}

/**
 * Growth potential of a customer: GROW (expand) or RETAIN (keep the relationship).
 * @default RETAIN (what readers use for a symbol they do not know)
 */
export const PotentialValues = ['GROW', 'RETAIN'] as const;
export type Potential = (typeof PotentialValues)[number];
export type PotentialInput = Potential;

/** Who a customer is: segment, sign-up, acquisition cost, potential and owners. Latest per customer (compacted topic). */
export interface CustomerProfile {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  /** The customer; also the record key. */
  customerId: string;
  segment: Segment;
  /**
   * When the customer signed up.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  signedUpAt: number;
  /** What it cost to win the customer (CAC). Minor units (cents, øre). */
  acquisitionCost: number;
  /** ISO 4217 currency code. */
  currency: string;
  /**
   * GROW or RETAIN; RETAIN when unknown.
   * @default "RETAIN"
   */
  potential: Potential;
  /**
   * Owner id of the named account manager or inside-sales owner.
   * @default null
   */
  accountManager: string | null;
  /**
   * Owner id of the executive sponsor.
   * @default null
   */
  executiveSponsor: string | null;
  /**
   * Name of the customer's current plan.
   * @default null
   */
  plan: string | null;
}

/** CustomerProfile as a producer may write it: fields with a default may be left out. */
export interface CustomerProfileInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  /** The customer; also the record key. */
  customerId: string;
  segment: SegmentInput;
  /**
   * When the customer signed up.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  signedUpAt: number;
  /** What it cost to win the customer (CAC). Minor units (cents, øre). */
  acquisitionCost: number;
  /** ISO 4217 currency code. */
  currency: string;
  /**
   * GROW or RETAIN; RETAIN when unknown.
   * @default "RETAIN"
   */
  potential?: PotentialInput | undefined;
  /**
   * Owner id of the named account manager or inside-sales owner.
   * @default null
   */
  accountManager?: string | null | undefined;
  /**
   * Owner id of the executive sponsor.
   * @default null
   */
  executiveSponsor?: string | null | undefined;
  /**
   * Name of the customer's current plan.
   * @default null
   */
  plan?: string | null | undefined;
}

/**
 * Lifecycle state of an invoice. Readers that meet a newer symbol read it as ISSUED.
 * @default ISSUED (what readers use for a symbol they do not know)
 */
export const InvoiceStatusValues = ['ISSUED', 'PAID', 'OVERDUE', 'CREDITED', 'WRITTEN_OFF'] as const;
export type InvoiceStatus = (typeof InvoiceStatusValues)[number];
export type InvoiceStatusInput = InvoiceStatus;

/** A change in an invoice's state. */
export interface InvoiceEvent {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  invoiceId: string;
  /** The customer; also the record key. */
  customerId: string;
  status: InvoiceStatus;
  /** Invoice amount. Minor units (cents, øre). */
  amount: number;
  /** ISO 4217 currency code. */
  currency: string;
  /**
   * Cost to serve attributable to this invoice. Minor units.
   * @default null
   */
  costToServe: number | null;
  /** Epoch milliseconds (Avro timestamp-millis). */
  issuedAt: number;
  /** Epoch milliseconds (Avro timestamp-millis). */
  dueAt: number;
  /**
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  paidAt: number | null;
}

/** InvoiceEvent as a producer may write it: fields with a default may be left out. */
export interface InvoiceEventInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  invoiceId: string;
  /** The customer; also the record key. */
  customerId: string;
  status: InvoiceStatusInput;
  /** Invoice amount. Minor units (cents, øre). */
  amount: number;
  /** ISO 4217 currency code. */
  currency: string;
  /**
   * Cost to serve attributable to this invoice. Minor units.
   * @default null
   */
  costToServe?: number | null | undefined;
  /** Epoch milliseconds (Avro timestamp-millis). */
  issuedAt: number;
  /** Epoch milliseconds (Avro timestamp-millis). */
  dueAt: number;
  /**
   * Epoch milliseconds (Avro timestamp-millis).
   * @default null
   */
  paidAt?: number | null | undefined;
}

/**
 * What a learning event tells the learning stage.
 * @default UNKNOWN (what readers use for a symbol they do not know)
 */
export const LearningEventKindValues = ['UNKNOWN', 'MARK', 'COHORT', 'CANCELLATION', 'OUTCOME'] as const;
export type LearningEventKind = (typeof LearningEventKindValues)[number];
export type LearningEventKindInput = LearningEventKind;

/** Internal: what a decision partition tells the single-partition learning stage. Watermarks (MARK) say a partition has passed a midnight; COHORT moves a customer between cohorts at risk; CANCELLATION counts towards a cohort's churn hazard; OUTCOME is a retention task's outcome for a reason, offer and cohort. */
export interface LearningEvent {
  eventId: string;
  /** Epoch milliseconds (Avro timestamp-millis). */
  occurredAt: number;
  kind: LearningEventKind;
  /**
   * MARK: the source partition.
   * @default 0
   */
  partition: number;
  /**
   * MARK: the source topics' partition count.
   * @default 1
   */
  partitions: number;
  /**
   * COHORT: the cohort the customer leaves; null when it was not at risk.
   * @default null
   */
  fromCohort: string | null;
  /**
   * COHORT: the cohort the customer joins; null when it is no longer at risk.
   * @default null
   */
  toCohort: string | null;
  /**
   * CANCELLATION and OUTCOME: the customer's cohort when it cancelled.
   * @default null
   */
  cohort: string | null;
  /** @default null */
  reason: CancellationReason | null;
  /** @default null */
  offer: Offer | null;
  /**
   * OUTCOME: whether the customer stayed.
   * @default null
   */
  saved: boolean | null;
  /**
   * OUTCOME: the experiment arm of the decision.
   * @default null
   */
  arm: string | null;
}

/** LearningEvent as a producer may write it: fields with a default may be left out. */
export interface LearningEventInput {
  eventId: string;
  /** Epoch milliseconds (Avro timestamp-millis). */
  occurredAt: number;
  kind: LearningEventKindInput;
  /**
   * MARK: the source partition.
   * @default 0
   */
  partition?: number | undefined;
  /**
   * MARK: the source topics' partition count.
   * @default 1
   */
  partitions?: number | undefined;
  /**
   * COHORT: the cohort the customer leaves; null when it was not at risk.
   * @default null
   */
  fromCohort?: string | null | undefined;
  /**
   * COHORT: the cohort the customer joins; null when it is no longer at risk.
   * @default null
   */
  toCohort?: string | null | undefined;
  /**
   * CANCELLATION and OUTCOME: the customer's cohort when it cancelled.
   * @default null
   */
  cohort?: string | null | undefined;
  /** @default null */
  reason?: CancellationReasonInput | null | undefined;
  /** @default null */
  offer?: OfferInput | null | undefined;
  /**
   * OUTCOME: whether the customer stayed.
   * @default null
   */
  saved?: boolean | null | undefined;
  /**
   * OUTCOME: the experiment arm of the decision.
   * @default null
   */
  arm?: string | null | undefined;
}

/** Retention outcomes of one reason, offer and cohort. */
export interface SaveTally {
  reason: CancellationReason;
  offer: Offer;
  cohort: string;
  saves: number;
  tries: number;
}

/** SaveTally as a producer may write it: fields with a default may be left out. */
export interface SaveTallyInput {
  reason: CancellationReasonInput;
  offer: OfferInput;
  cohort: string;
  saves: number;
  tries: number;
}

/** Internal: what the pipeline has learned from every outcome and cancellation before a midnight, across partitions. One per decision partition per midnight; decisions of that day use it. */
export interface LearningSnapshot {
  eventId: string;
  /**
   * The midnight it is as of.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  /** The decision partition it is for. */
  partition: number;
  saves: SaveTally[];
  exposures: CohortExposure[];
  /** @default [] */
  arms: ArmTally[];
}

/** LearningSnapshot as a producer may write it: fields with a default may be left out. */
export interface LearningSnapshotInput {
  eventId: string;
  /**
   * The midnight it is as of.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  /** The decision partition it is for. */
  partition: number;
  saves: SaveTallyInput[];
  exposures: CohortExposureInput[];
  /** @default [] */
  arms?: ArmTallyInput[] | undefined;
}

/**
 * Kind of survey. Readers that meet a newer symbol read it as CSAT.
 * @default CSAT (what readers use for a symbol they do not know)
 */
export const SurveyKindValues = ['NPS', 'CSAT', 'ONBOARDING', 'EXIT'] as const;
export type SurveyKind = (typeof SurveyKindValues)[number];
export type SurveyKindInput = SurveyKind;

/**
 * Whether the customer answered the survey.
 * @default UNANSWERED (what readers use for a symbol they do not know)
 */
export const SurveyStatusValues = ['ANSWERED', 'UNANSWERED'] as const;
export type SurveyStatus = (typeof SurveyStatusValues)[number];
export type SurveyStatusInput = SurveyStatus;

/** The result of a survey sent to a customer. */
export interface SurveyResult {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  surveyId: string;
  /** The customer; also the record key. */
  customerId: string;
  kind: SurveyKind;
  status: SurveyStatus;
  /**
   * NPS 0-10 or CSAT 1-5; null when unanswered.
   * @default null
   */
  score: number | null;
  /**
   * Free-text comment. Personal data: never logged.
   * @default null
   */
  comment: string | null;
}

/** SurveyResult as a producer may write it: fields with a default may be left out. */
export interface SurveyResultInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  surveyId: string;
  /** The customer; also the record key. */
  customerId: string;
  kind: SurveyKindInput;
  status: SurveyStatusInput;
  /**
   * NPS 0-10 or CSAT 1-5; null when unanswered.
   * @default null
   */
  score?: number | null | undefined;
  /**
   * Free-text comment. Personal data: never logged.
   * @default null
   */
  comment?: string | null | undefined;
}

/**
 * What came of a contact task. Readers that meet a newer symbol read it as COMPLETED.
 * @default COMPLETED (what readers use for a symbol they do not know)
 */
export const TaskOutcomeKindValues = ['RETAINED', 'PAUSED', 'DOWNGRADED', 'LOST', 'COMPLETED', 'NO_CONTACT'] as const;
export type TaskOutcomeKind = (typeof TaskOutcomeKindValues)[number];
export type TaskOutcomeKindInput = TaskOutcomeKind;

/** What the contact center recorded for a task. */
export interface TaskOutcome {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  taskId: string;
  /** The customer; also the record key. */
  customerId: string;
  outcome: TaskOutcomeKind;
  /**
   * Agent's free-text note. Personal data: never logged.
   * @default null
   */
  note: string | null;
}

/** TaskOutcome as a producer may write it: fields with a default may be left out. */
export interface TaskOutcomeInput {
  /** Unique per event (a UUID); consumers de-duplicate on it. */
  eventId: string;
  /**
   * When the fact happened (event time), epoch milliseconds.
   * Epoch milliseconds (Avro timestamp-millis).
   */
  occurredAt: number;
  taskId: string;
  /** The customer; also the record key. */
  customerId: string;
  outcome: TaskOutcomeKindInput;
  /**
   * Agent's free-text note. Personal data: never logged.
   * @default null
   */
  note?: string | null | undefined;
}
