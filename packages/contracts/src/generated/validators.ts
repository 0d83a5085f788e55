// Generated from schemas/*.avsc by packages/contracts/scripts/generate.ts. Do not edit.
import { z } from 'zod';
import type {
  AlertKind,
  AlertKindInput,
  ArmTally,
  ArmTallyInput,
  CancellationChannel,
  CancellationChannelInput,
  CancellationReason,
  CancellationReasonInput,
  CancellationRequested,
  CancellationRequestedInput,
  Severity,
  SeverityInput,
  ChurnAlert,
  ChurnAlertInput,
  DecisionAction,
  DecisionActionInput,
  Offer,
  OfferInput,
  Tier,
  TierInput,
  Track,
  TrackInput,
  OfferEvaluation,
  OfferEvaluationInput,
  Segment,
  SegmentInput,
  CustomerValue,
  CustomerValueInput,
  Priority,
  PriorityInput,
  ChurnDecision,
  ChurnDecisionInput,
  CohortExposure,
  CohortExposureInput,
  TaskKind,
  TaskKindInput,
  ContactTask,
  ContactTaskInput,
  Potential,
  PotentialInput,
  CustomerProfile,
  CustomerProfileInput,
  InvoiceStatus,
  InvoiceStatusInput,
  InvoiceEvent,
  InvoiceEventInput,
  LearningEventKind,
  LearningEventKindInput,
  LearningEvent,
  LearningEventInput,
  SaveTally,
  SaveTallyInput,
  LearningSnapshot,
  LearningSnapshotInput,
  SurveyKind,
  SurveyKindInput,
  SurveyStatus,
  SurveyStatusInput,
  SurveyResult,
  SurveyResultInput,
  TaskOutcomeKind,
  TaskOutcomeKindInput,
  TaskOutcome,
  TaskOutcomeInput,
} from './types.ts';
import {
  AlertKindValues,
  CancellationChannelValues,
  CancellationReasonValues,
  SeverityValues,
  DecisionActionValues,
  OfferValues,
  TierValues,
  TrackValues,
  SegmentValues,
  PriorityValues,
  TaskKindValues,
  PotentialValues,
  InvoiceStatusValues,
  LearningEventKindValues,
  SurveyKindValues,
  SurveyStatusValues,
  TaskOutcomeKindValues,
} from './types.ts';

export const AlertKindSchema: z.ZodType<AlertKind, AlertKindInput> = z.enum(AlertKindValues);

export const ArmTallySchema: z.ZodType<ArmTally, ArmTallyInput> = z.object({
  arm: z.string(),
  saves: z.int(),
  tries: z.int(),
});

export const CancellationChannelSchema: z.ZodType<CancellationChannel, CancellationChannelInput> = z.enum(CancellationChannelValues);

export const CancellationReasonSchema: z.ZodType<CancellationReason, CancellationReasonInput> = z.enum(CancellationReasonValues);

export const CancellationRequestedSchema: z.ZodType<CancellationRequested, CancellationRequestedInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  cancellationId: z.string().min(1, { error: 'must not be empty' }),
  customerId: z.string().min(1, { error: 'must not be empty' }),
  subscriptionId: z.string().nullable().default(null),
  effectiveAt: z.int().nullable().default(null),
  channel: CancellationChannelSchema.default("OTHER"),
  reason: CancellationReasonSchema.default("UNKNOWN"),
  reasonText: z.string().nullable().default(null),
});

export const SeveritySchema: z.ZodType<Severity, SeverityInput> = z.enum(SeverityValues);

export const ChurnAlertSchema: z.ZodType<ChurnAlert, ChurnAlertInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  alertId: z.string(),
  causationId: z.string(),
  kind: AlertKindSchema,
  severity: SeveritySchema,
  customerId: z.string().nullable().default(null),
  owner: z.string(),
  message: z.string(),
});

export const DecisionActionSchema: z.ZodType<DecisionAction, DecisionActionInput> = z.enum(DecisionActionValues);

export const OfferSchema: z.ZodType<Offer, OfferInput> = z.enum(OfferValues);

export const TierSchema: z.ZodType<Tier, TierInput> = z.enum(TierValues);

export const TrackSchema: z.ZodType<Track, TrackInput> = z.enum(TrackValues);

export const OfferEvaluationSchema: z.ZodType<OfferEvaluation, OfferEvaluationInput> = z.object({
  offer: OfferSchema,
  probability: z.number().min(0).max(1),
  expectedValue: z.int(),
  prior: z.number().min(0).max(1).nullable().default(null),
  observedSaves: z.int().default(0),
  observedTries: z.int().default(0),
  cohortMultiplier: z.number().nullable().default(null),
});

export const SegmentSchema: z.ZodType<Segment, SegmentInput> = z.enum(SegmentValues);

export const CustomerValueSchema: z.ZodType<CustomerValue, CustomerValueInput> = z.object({
  customerId: z.string().min(1, { error: 'must not be empty' }),
  asOf: z.int(),
  currency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code' }),
  revenue12m: z.int(),
  margin12m: z.int(),
  tier: TierSchema,
  track: TrackSchema,
  tenureDays: z.int32().min(0),
  acquisitionCost: z.int().min(0),
  cumulativeMargin: z.int(),
  paybackReached: z.boolean(),
  remainingLifetimeValue: z.int(),
  overdueInvoices: z.int32().min(0),
  lastNps: z.int32().min(0).max(10).nullable().default(null),
  unansweredSurveys: z.int32().min(0),
  eventId: z.guid({ error: 'must be a UUID' }).nullable().default(null),
  causationId: z.string().nullable().default(null),
  segment: SegmentSchema.nullable().default(null),
  accountManager: z.string().nullable().default(null),
  executiveSponsor: z.string().nullable().default(null),
  signedUpAt: z.int().nullable().default(null),
});

export const PrioritySchema: z.ZodType<Priority, PriorityInput> = z.enum(PriorityValues);

export const ChurnDecisionSchema: z.ZodType<ChurnDecision, ChurnDecisionInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  decisionId: z.string(),
  customerId: z.string().min(1, { error: 'must not be empty' }),
  cancellationId: z.string(),
  causationId: z.string(),
  action: DecisionActionSchema,
  offer: OfferSchema,
  tier: TierSchema,
  track: TrackSchema,
  expectedValue: z.int(),
  offersWeighed: z.array(OfferEvaluationSchema),
  reasons: z.array(z.string()),
  policyVersion: z.string(),
  respondBy: z.int(),
  value: CustomerValueSchema,
  reason: CancellationReasonSchema.nullable().default(null),
  priority: PrioritySchema.nullable().default(null),
  arm: z.string().nullable().default(null),
  cohort: z.string().nullable().default(null),
  monthlyChurnHazard: z.number().nullable().default(null),
  learnedAsOf: z.int().nullable().default(null),
});

export const CohortExposureSchema: z.ZodType<CohortExposure, CohortExposureInput> = z.object({
  cohort: z.string(),
  cancellations: z.int(),
  exposureMonths: z.number(),
});

export const TaskKindSchema: z.ZodType<TaskKind, TaskKindInput> = z.enum(TaskKindValues);

export const ContactTaskSchema: z.ZodType<ContactTask, ContactTaskInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  taskId: z.string(),
  customerId: z.string().min(1, { error: 'must not be empty' }),
  causationId: z.string(),
  kind: TaskKindSchema,
  queue: z.string(),
  priority: PrioritySchema,
  dueAt: z.int(),
  offer: OfferSchema.default("NONE"),
  instructions: z.string(),
});

export const PotentialSchema: z.ZodType<Potential, PotentialInput> = z.enum(PotentialValues);

export const CustomerProfileSchema: z.ZodType<CustomerProfile, CustomerProfileInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  customerId: z.string().min(1, { error: 'must not be empty' }),
  segment: SegmentSchema,
  signedUpAt: z.int(),
  acquisitionCost: z.int().min(0),
  currency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code' }),
  potential: PotentialSchema.default("RETAIN"),
  accountManager: z.string().nullable().default(null),
  executiveSponsor: z.string().nullable().default(null),
  plan: z.string().nullable().default(null),
});

export const InvoiceStatusSchema: z.ZodType<InvoiceStatus, InvoiceStatusInput> = z.enum(InvoiceStatusValues);

export const InvoiceEventSchema: z.ZodType<InvoiceEvent, InvoiceEventInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  invoiceId: z.string().min(1, { error: 'must not be empty' }),
  customerId: z.string().min(1, { error: 'must not be empty' }),
  status: InvoiceStatusSchema,
  amount: z.int().min(0),
  currency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code' }),
  costToServe: z.int().min(0).nullable().default(null),
  issuedAt: z.int(),
  dueAt: z.int(),
  paidAt: z.int().nullable().default(null),
});

export const LearningEventKindSchema: z.ZodType<LearningEventKind, LearningEventKindInput> = z.enum(LearningEventKindValues);

export const LearningEventSchema: z.ZodType<LearningEvent, LearningEventInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  kind: LearningEventKindSchema,
  partition: z.int32().default(0),
  partitions: z.int32().default(1),
  fromCohort: z.string().nullable().default(null),
  toCohort: z.string().nullable().default(null),
  cohort: z.string().nullable().default(null),
  reason: CancellationReasonSchema.nullable().default(null),
  offer: OfferSchema.nullable().default(null),
  saved: z.boolean().nullable().default(null),
  arm: z.string().nullable().default(null),
});

export const SaveTallySchema: z.ZodType<SaveTally, SaveTallyInput> = z.object({
  reason: CancellationReasonSchema,
  offer: OfferSchema,
  cohort: z.string(),
  saves: z.int(),
  tries: z.int(),
});

export const LearningSnapshotSchema: z.ZodType<LearningSnapshot, LearningSnapshotInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  partition: z.int32(),
  saves: z.array(SaveTallySchema),
  exposures: z.array(CohortExposureSchema),
  arms: z.array(ArmTallySchema).default([]),
});

export const SurveyKindSchema: z.ZodType<SurveyKind, SurveyKindInput> = z.enum(SurveyKindValues);

export const SurveyStatusSchema: z.ZodType<SurveyStatus, SurveyStatusInput> = z.enum(SurveyStatusValues);

export const SurveyResultSchema: z.ZodType<SurveyResult, SurveyResultInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  surveyId: z.string().min(1, { error: 'must not be empty' }),
  customerId: z.string().min(1, { error: 'must not be empty' }),
  kind: SurveyKindSchema,
  status: SurveyStatusSchema,
  score: z.int32().nullable().default(null),
  comment: z.string().nullable().default(null),
});

export const TaskOutcomeKindSchema: z.ZodType<TaskOutcomeKind, TaskOutcomeKindInput> = z.enum(TaskOutcomeKindValues);

export const TaskOutcomeSchema: z.ZodType<TaskOutcome, TaskOutcomeInput> = z.object({
  eventId: z.guid({ error: 'must be a UUID' }),
  occurredAt: z.int(),
  taskId: z.string().min(1, { error: 'must not be empty' }),
  customerId: z.string().min(1, { error: 'must not be empty' }),
  outcome: TaskOutcomeKindSchema,
  note: z.string().nullable().default(null),
});
