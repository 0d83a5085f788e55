/**
 * @churn/domain: the pure domain core of the churn pipeline.
 *
 * Every processor has the shape `(event, state, ctx) => { state, emit }`: no I/O, no clock
 * (time arrives as `ctx.now`, which runners set to the record's event time), plain-JSON
 * states, and outputs whose ids derive from the causing event, so a replay yields
 * byte-identical records. The same processors run under the Kafka runner, the in-process
 * runner and the test driver.
 *
 * Processors (state key in brackets):
 * - `keepCustomerValue` [customerId]: profile, invoice and survey events (and Ticks) ->
 *   `churn.customer-value.v1` snapshots, the join currency of every other per-customer processor.
 * - `decideOnCancellation` [customerId]: CancellationRequested (+ CustomerValue, TaskOutcome) ->
 *   ChurnDecision, ContactTasks and ChurnAlerts (win back with the best offer, or let go
 *   gracefully), using what the pipeline has learned as of the day's midnight; when the
 *   policy learns, it also tells the learning stage of cohort changes, cancellations and
 *   the outcomes of its retention tasks.
 * - `routeSurvey` [customerId]: SurveyResult (+ CustomerValue) -> referral requests, detractor
 *   recovery, silent-customer alerts.
 * - `signalInvoice` [customerId]: InvoiceEvent (+ CustomerValue) -> payment follow-ups and
 *   payment-risk alerts for overdue invoices.
 * - `scheduleFollowUps` [customerId]: Tick, CustomerValue and TaskOutcome -> program follow-ups,
 *   PROGRAM_NOT_FOLLOWED, at-risk dialogues and DIALOGUE_OVERDUE.
 * - `detectStructuralIssues` [reason]: CancellationRequested -> STRUCTURAL_ISSUE to management.
 * - `learnAcrossPartitions` [one key]: the decision partitions' learning events and
 *   watermarks -> a learning snapshot per decision partition at each midnight: save rates
 *   per reason, offer and cohort, cancellations and customer-months at risk per cohort.
 *
 * The policy (`policies/default.json`) is loaded once with `loadPolicy`, validated, frozen and
 * compiled; every number of the business rules lives there.
 */
export {
  type CustomerValueEvent,
  type CustomerValueState,
  emptyCustomerValueState,
  keepCustomerValue,
  monthIndex,
  type ProfileFacts,
  snapshotOf,
  tierOf,
  valueDueAt,
} from './customer-value.ts';
export {
  armOf,
  type CancellationEvent,
  type CancellationState,
  decideOnCancellation,
  rememberCustomerValue,
  retentionTaskIdsOf,
  unknownCustomerValue,
  type ValueJoined,
  type WeighedOffer,
  weighOffers,
} from './decision.ts';
export {
  atRiskSignals,
  type FollowUpEvent,
  type FollowUpState,
  followUpDueAt,
  graceOf,
  nextFollowUpAt,
  type OpenDialogue,
  type OpenFollowUp,
  scheduleFollowUps,
} from './follow-up.ts';
export { deriveId, deriveIdAndEventId, hash53 } from './ids.ts';
export { type InvoiceSignalEvent, type InvoiceSignalState, signalInvoice } from './invoice-signals.ts';
export {
  blendRate,
  blendRatio,
  type CustomerLearning,
  cohortOf,
  cohortParts,
  type Hazard,
  LEARNING_EVENTS_TOPIC,
  LEARNING_KEY,
  LEARNING_SNAPSHOTS_TOPIC,
  type LearnedModel,
  type LearningOutput,
  type LearningState,
  learnAcrossPartitions,
  learningMark,
  modelOf,
  NEW_CUSTOMER_LEARNING,
  NPS_BANDS,
  type NpsBand,
  npsBandOf,
  type OpenRetention,
  type SaveRate,
  tenureBandOf,
  tenureBands,
} from './learning.ts';
export {
  type CompiledOffer,
  type ExperimentArm,
  loadPolicy,
  mergeDocuments,
  minorUnitsOf,
  type OfferCost,
  type OfferRule,
  type Policy,
  type PolicyDocument,
  PolicySchema,
  type PolicyTables,
  type ProgramEntry,
  type ProgramOwner,
  programOf,
  type WeighableOffer,
  WeighableOfferValues,
} from './policy.ts';
export {
  type Emitted,
  isCustomerValue,
  isTick,
  type Processor,
  type ProcessorContext,
  type ProcessorResult,
  type Tick,
} from './processor.ts';
export { alertOwnerFor, dueBy, formatMoney, queueFor } from './routing.ts';
export { detectStructuralIssues, type StructuralIssueState, structuralMark } from './structural-issues.ts';
export {
  type NpsCategory,
  npsCategoryOf,
  routeSurvey,
  type SurveyRoutingEvent,
  type SurveyRoutingState,
} from './survey-routing.ts';
export { addMonths, formatTime } from './time.ts';
export {
  type JoiningProcessor,
  tickValue,
  updateOwn,
  updateValue,
  valueOfStateDueAt,
  type WithValue,
} from './with-customer-value.ts';
