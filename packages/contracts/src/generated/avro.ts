// Generated from schemas/*.avsc by packages/contracts/scripts/generate.ts. Do not edit.
import type {
  CancellationRequested,
  ChurnAlert,
  OfferEvaluation,
  CustomerValue,
  ChurnDecision,
  ContactTask,
  CustomerProfile,
  InvoiceEvent,
  SurveyResult,
  TaskOutcome,
} from './types.ts';

/** Names of every record in the contracts. */
export type RecordName = 'CancellationRequested' | 'ChurnAlert' | 'OfferEvaluation' | 'CustomerValue' | 'ChurnDecision' | 'ContactTask' | 'CustomerProfile' | 'InvoiceEvent' | 'SurveyResult' | 'TaskOutcome';

/** The record type for each record name. */
export interface RecordTypes {
  CancellationRequested: CancellationRequested;
  ChurnAlert: ChurnAlert;
  OfferEvaluation: OfferEvaluation;
  CustomerValue: CustomerValue;
  ChurnDecision: ChurnDecision;
  ContactTask: ContactTask;
  CustomerProfile: CustomerProfile;
  InvoiceEvent: InvoiceEvent;
  SurveyResult: SurveyResult;
  TaskOutcome: TaskOutcome;
}

/** Self-contained Avro schema of every record, as registered in the schema registry. */
export const avroSchemas: Readonly<Record<RecordName, object>> = {
  CancellationRequested: {"type":"record","name":"CancellationRequested","namespace":"churn.v1","doc":"A customer asked to cancel.","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"cancellationId","type":"string","minLength":1},{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"subscriptionId","type":["null","string"],"default":null},{"name":"effectiveAt","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null,"doc":"When the cancellation takes effect, if known."},{"name":"channel","type":{"type":"enum","name":"CancellationChannel","namespace":"churn.v1","doc":"Where the customer asked to cancel.","symbols":["PHONE","WEB","EMAIL","CHAT","OTHER"],"default":"OTHER"},"default":"OTHER"},{"name":"reason","type":{"type":"enum","name":"CancellationReason","namespace":"churn.v1","doc":"Why the customer cancels, as recorded by the channel.","symbols":["LIFE_CHANGE","PRICE","SERVICE_ISSUE","PRODUCT_GAP","COMPETITOR","PAYMENT_PROBLEM","NO_LONGER_NEEDED","UNKNOWN"],"default":"UNKNOWN"},"default":"UNKNOWN"},{"name":"reasonText","type":["null","string"],"default":null,"doc":"The customer's own words. Personal data: never logged.","pii":true}]},
  ChurnAlert: {"type":"record","name":"ChurnAlert","namespace":"churn.v1","doc":"Something a person must know about now.","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"alertId","type":"string"},{"name":"causationId","type":"string","doc":"eventId of the input that caused this alert."},{"name":"kind","type":{"type":"enum","name":"AlertKind","namespace":"churn.v1","doc":"Kind of alert. Readers that meet a newer symbol read it as PROGRAM_NOT_FOLLOWED.","symbols":["HIGH_VALUE_AT_RISK","HIGH_VALUE_DETRACTOR","EARLY_TENURE_CANCELLATION","PROGRAM_NOT_FOLLOWED","PAYMENT_RISK","SILENT_CUSTOMER","STRUCTURAL_ISSUE","DIALOGUE_OVERDUE"],"default":"PROGRAM_NOT_FOLLOWED"}},{"name":"severity","type":{"type":"enum","name":"Severity","namespace":"churn.v1","doc":"How urgent an alert is.","symbols":["INFO","WARNING","CRITICAL"],"default":"WARNING"}},{"name":"customerId","type":["null","string"],"default":null,"doc":"The customer; none for STRUCTURAL_ISSUE."},{"name":"owner","type":"string","doc":"Who must act: an owner id, inside-sales, management, sales-marketing, ..."},{"name":"message","type":"string","doc":"What happened, in plain language."}]},
  OfferEvaluation: {"type":"record","name":"OfferEvaluation","namespace":"churn.v1","doc":"One offer the policy weighed for a decision.","fields":[{"name":"offer","type":{"type":"enum","name":"Offer","namespace":"churn.v1","doc":"A retention offer; NONE when no offer is made.","symbols":["PAUSE","DOWNGRADE","LOYALTY_BONUS","PAYMENT_PLAN","SERVICE_RECOVERY","ACCOUNT_MANAGER_MEETING","EXECUTIVE_ESCALATION","NONE"],"default":"NONE"}},{"name":"probability","type":"double","doc":"Save probability used for this offer (0-1).","minimum":0,"maximum":1},{"name":"expectedValue","type":"long","doc":"p x (remaining lifetime value - offer cost) - contact cost. Minor units."}]},
  CustomerValue: {"type":"record","name":"CustomerValue","namespace":"churn.v1","doc":"What a customer is worth, as kept by the pipeline from profile, invoice, survey and outcome events.","fields":[{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"asOf","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"Event time of the newest fact in this snapshot."},{"name":"currency","type":"string","doc":"ISO 4217 currency code.","format":"iso4217"},{"name":"revenue12m","type":"long","doc":"Invoiced revenue over the last 12 months, net of credits and write-offs. Minor units."},{"name":"margin12m","type":"long","doc":"Revenue minus cost to serve over the last 12 months; can be negative. Minor units."},{"name":"tier","type":{"type":"enum","name":"Tier","namespace":"churn.v1","doc":"Customer tier by revenue over the last 12 months.","symbols":["A","B","C","D"],"default":"D"}},{"name":"track","type":{"type":"enum","name":"Track","namespace":"churn.v1","doc":"Follow-up track by potential.","symbols":["GROW","RETAIN"],"default":"RETAIN"}},{"name":"tenureDays","type":"int","doc":"Days since sign-up.","minimum":0},{"name":"acquisitionCost","type":"long","doc":"What it cost to win the customer (CAC). Minor units (cents, øre).","minimum":0},{"name":"cumulativeMargin","type":"long","doc":"Margin earned since sign-up. Minor units."},{"name":"paybackReached","type":"boolean","doc":"Whether cumulative margin has reached the acquisition cost."},{"name":"remainingLifetimeValue","type":"long","doc":"Monthly margin times expected remaining months. Minor units."},{"name":"overdueInvoices","type":"int","doc":"Invoices currently overdue.","minimum":0},{"name":"lastNps","type":["null","int"],"default":null,"doc":"Most recent NPS score (0-10), if any.","minimum":0,"maximum":10},{"name":"unansweredSurveys","type":"int","doc":"Surveys in a row the customer left unanswered.","minimum":0},{"name":"eventId","type":["null","string"],"default":null,"doc":"Unique per snapshot; consumers de-duplicate on it.","format":"uuid"},{"name":"causationId","type":["null","string"],"default":null,"doc":"eventId of the input that caused this snapshot."},{"name":"segment","type":["null",{"type":"enum","name":"Segment","namespace":"churn.v1","doc":"Business or consumer customer. Readers that meet a newer symbol read it as B2C, which assumes no account manager.","symbols":["B2B","B2C"],"default":"B2C"}],"default":null,"doc":"B2B or B2C, from the profile; null before a profile is known."},{"name":"accountManager","type":["null","string"],"default":null,"doc":"Owner id of the named account manager or inside-sales owner, from the profile."},{"name":"executiveSponsor","type":["null","string"],"default":null,"doc":"Owner id of the executive sponsor, from the profile."},{"name":"signedUpAt","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null,"doc":"When the customer signed up, from the profile."}]},
  ChurnDecision: {"type":"record","name":"ChurnDecision","namespace":"churn.v1","doc":"The pipeline's decision on a cancellation, with everything needed to explain it.","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"decisionId","type":"string"},{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"cancellationId","type":"string"},{"name":"causationId","type":"string","doc":"eventId of the cancellation that caused this decision."},{"name":"action","type":{"type":"enum","name":"DecisionAction","namespace":"churn.v1","doc":"What the pipeline decided to do about a cancellation.","symbols":["WIN_BACK","GRACEFUL_OFFBOARDING"],"default":"GRACEFUL_OFFBOARDING"}},{"name":"offer","type":{"type":"enum","name":"Offer","namespace":"churn.v1","doc":"A retention offer; NONE when no offer is made.","symbols":["PAUSE","DOWNGRADE","LOYALTY_BONUS","PAYMENT_PLAN","SERVICE_RECOVERY","ACCOUNT_MANAGER_MEETING","EXECUTIVE_ESCALATION","NONE"],"default":"NONE"}},{"name":"tier","type":{"type":"enum","name":"Tier","namespace":"churn.v1","doc":"Customer tier by revenue over the last 12 months.","symbols":["A","B","C","D"],"default":"D"}},{"name":"track","type":{"type":"enum","name":"Track","namespace":"churn.v1","doc":"Follow-up track by potential.","symbols":["GROW","RETAIN"],"default":"RETAIN"}},{"name":"expectedValue","type":"long","doc":"Expected value of the chosen offer; 0 when none. Minor units."},{"name":"offersWeighed","type":{"type":"array","items":{"type":"record","name":"OfferEvaluation","namespace":"churn.v1","doc":"One offer the policy weighed for a decision.","fields":[{"name":"offer","type":"churn.v1.Offer"},{"name":"probability","type":"double","doc":"Save probability used for this offer (0-1).","minimum":0,"maximum":1},{"name":"expectedValue","type":"long","doc":"p x (remaining lifetime value - offer cost) - contact cost. Minor units."}]}},"doc":"Every offer the policy weighed, with its probability and expected value."},{"name":"reasons","type":{"type":"array","items":"string"},"doc":"Plain-language reasons an agent can read aloud."},{"name":"policyVersion","type":"string","doc":"Version of the policy that decided."},{"name":"respondBy","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"Latest time to respond; never after the cancellation's effective date."},{"name":"value","type":{"type":"record","name":"CustomerValue","namespace":"churn.v1","doc":"What a customer is worth, as kept by the pipeline from profile, invoice, survey and outcome events.","fields":[{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"asOf","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"Event time of the newest fact in this snapshot."},{"name":"currency","type":"string","doc":"ISO 4217 currency code.","format":"iso4217"},{"name":"revenue12m","type":"long","doc":"Invoiced revenue over the last 12 months, net of credits and write-offs. Minor units."},{"name":"margin12m","type":"long","doc":"Revenue minus cost to serve over the last 12 months; can be negative. Minor units."},{"name":"tier","type":"churn.v1.Tier"},{"name":"track","type":"churn.v1.Track"},{"name":"tenureDays","type":"int","doc":"Days since sign-up.","minimum":0},{"name":"acquisitionCost","type":"long","doc":"What it cost to win the customer (CAC). Minor units (cents, øre).","minimum":0},{"name":"cumulativeMargin","type":"long","doc":"Margin earned since sign-up. Minor units."},{"name":"paybackReached","type":"boolean","doc":"Whether cumulative margin has reached the acquisition cost."},{"name":"remainingLifetimeValue","type":"long","doc":"Monthly margin times expected remaining months. Minor units."},{"name":"overdueInvoices","type":"int","doc":"Invoices currently overdue.","minimum":0},{"name":"lastNps","type":["null","int"],"default":null,"doc":"Most recent NPS score (0-10), if any.","minimum":0,"maximum":10},{"name":"unansweredSurveys","type":"int","doc":"Surveys in a row the customer left unanswered.","minimum":0},{"name":"eventId","type":["null","string"],"default":null,"doc":"Unique per snapshot; consumers de-duplicate on it.","format":"uuid"},{"name":"causationId","type":["null","string"],"default":null,"doc":"eventId of the input that caused this snapshot."},{"name":"segment","type":["null",{"type":"enum","name":"Segment","namespace":"churn.v1","doc":"Business or consumer customer. Readers that meet a newer symbol read it as B2C, which assumes no account manager.","symbols":["B2B","B2C"],"default":"B2C"}],"default":null,"doc":"B2B or B2C, from the profile; null before a profile is known."},{"name":"accountManager","type":["null","string"],"default":null,"doc":"Owner id of the named account manager or inside-sales owner, from the profile."},{"name":"executiveSponsor","type":["null","string"],"default":null,"doc":"Owner id of the executive sponsor, from the profile."},{"name":"signedUpAt","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null,"doc":"When the customer signed up, from the profile."}]},"doc":"The customer value snapshot the decision used."},{"name":"reason","type":["null",{"type":"enum","name":"CancellationReason","namespace":"churn.v1","doc":"Why the customer cancels, as recorded by the channel.","symbols":["LIFE_CHANGE","PRICE","SERVICE_ISSUE","PRODUCT_GAP","COMPETITOR","PAYMENT_PROBLEM","NO_LONGER_NEEDED","UNKNOWN"],"default":"UNKNOWN"}],"default":null,"doc":"The cancellation's reason, for dashboards."},{"name":"priority","type":["null",{"type":"enum","name":"Priority","namespace":"churn.v1","doc":"Task priority: P1 within 24 hours, P2 within 3 days, P3 within 7 days, P4 within 14 days.","symbols":["P1","P2","P3","P4"],"default":"P4"}],"default":null,"doc":"Priority of the decision's first task."}]},
  ContactTask: {"type":"record","name":"ContactTask","namespace":"churn.v1","doc":"Work for a person (or an automated flow) in the contact center.","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"taskId","type":"string"},{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"causationId","type":"string","doc":"eventId of the input that caused this task."},{"name":"kind","type":{"type":"enum","name":"TaskKind","namespace":"churn.v1","doc":"Kind of contact task. Readers that meet a newer symbol read it as FOLLOW_UP.","symbols":["RETENTION_CALL","OFFBOARDING_CALL","THANK_YOU_MESSAGE","EXIT_SURVEY","FOLLOW_UP","SERVICE_RECOVERY","PAYMENT_FOLLOW_UP","REFERRAL_REQUEST"],"default":"FOLLOW_UP"}},{"name":"queue","type":"string","doc":"owner:<id>, inside-sales, contact-center or automated."},{"name":"priority","type":{"type":"enum","name":"Priority","namespace":"churn.v1","doc":"Task priority: P1 within 24 hours, P2 within 3 days, P3 within 7 days, P4 within 14 days.","symbols":["P1","P2","P3","P4"],"default":"P4"}},{"name":"dueAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"offer","type":{"type":"enum","name":"Offer","namespace":"churn.v1","doc":"A retention offer; NONE when no offer is made.","symbols":["PAUSE","DOWNGRADE","LOYALTY_BONUS","PAYMENT_PLAN","SERVICE_RECOVERY","ACCOUNT_MANAGER_MEETING","EXECUTIVE_ESCALATION","NONE"],"default":"NONE"},"default":"NONE"},{"name":"instructions","type":"string","doc":"What to do, in plain language."}]},
  CustomerProfile: {"type":"record","name":"CustomerProfile","namespace":"churn.v1","doc":"Who a customer is: segment, sign-up, acquisition cost, potential and owners. Latest per customer (compacted topic).","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"segment","type":{"type":"enum","name":"Segment","namespace":"churn.v1","doc":"Business or consumer customer. Readers that meet a newer symbol read it as B2C, which assumes no account manager.","symbols":["B2B","B2C"],"default":"B2C"}},{"name":"signedUpAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the customer signed up."},{"name":"acquisitionCost","type":"long","doc":"What it cost to win the customer (CAC). Minor units (cents, øre).","minimum":0},{"name":"currency","type":"string","doc":"ISO 4217 currency code.","format":"iso4217"},{"name":"potential","type":{"type":"enum","name":"Potential","namespace":"churn.v1","doc":"Growth potential of a customer: GROW (expand) or RETAIN (keep the relationship).","symbols":["GROW","RETAIN"],"default":"RETAIN"},"doc":"GROW or RETAIN; RETAIN when unknown.","default":"RETAIN"},{"name":"accountManager","type":["null","string"],"default":null,"doc":"Owner id of the named account manager or inside-sales owner."},{"name":"executiveSponsor","type":["null","string"],"default":null,"doc":"Owner id of the executive sponsor."},{"name":"plan","type":["null","string"],"default":null,"doc":"Name of the customer's current plan."}]},
  InvoiceEvent: {"type":"record","name":"InvoiceEvent","namespace":"churn.v1","doc":"A change in an invoice's state.","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"invoiceId","type":"string","minLength":1},{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"status","type":{"type":"enum","name":"InvoiceStatus","namespace":"churn.v1","doc":"Lifecycle state of an invoice. Readers that meet a newer symbol read it as ISSUED.","symbols":["ISSUED","PAID","OVERDUE","CREDITED","WRITTEN_OFF"],"default":"ISSUED"}},{"name":"amount","type":"long","doc":"Invoice amount. Minor units (cents, øre).","minimum":0},{"name":"currency","type":"string","doc":"ISO 4217 currency code.","format":"iso4217"},{"name":"costToServe","type":["null","long"],"default":null,"doc":"Cost to serve attributable to this invoice. Minor units.","minimum":0},{"name":"issuedAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"dueAt","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"paidAt","type":["null",{"type":"long","logicalType":"timestamp-millis"}],"default":null}]},
  SurveyResult: {"type":"record","name":"SurveyResult","namespace":"churn.v1","doc":"The result of a survey sent to a customer.","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"surveyId","type":"string","minLength":1},{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"kind","type":{"type":"enum","name":"SurveyKind","namespace":"churn.v1","doc":"Kind of survey. Readers that meet a newer symbol read it as CSAT.","symbols":["NPS","CSAT","ONBOARDING","EXIT"],"default":"CSAT"}},{"name":"status","type":{"type":"enum","name":"SurveyStatus","namespace":"churn.v1","doc":"Whether the customer answered the survey.","symbols":["ANSWERED","UNANSWERED"],"default":"UNANSWERED"}},{"name":"score","type":["null","int"],"default":null,"doc":"NPS 0-10 or CSAT 1-5; null when unanswered."},{"name":"comment","type":["null","string"],"default":null,"doc":"Free-text comment. Personal data: never logged.","pii":true}]},
  TaskOutcome: {"type":"record","name":"TaskOutcome","namespace":"churn.v1","doc":"What the contact center recorded for a task.","fields":[{"name":"eventId","type":"string","doc":"Unique per event (a UUID); consumers de-duplicate on it.","format":"uuid"},{"name":"occurredAt","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"When the fact happened (event time), epoch milliseconds."},{"name":"taskId","type":"string","minLength":1},{"name":"customerId","type":"string","doc":"The customer; also the record key.","minLength":1},{"name":"outcome","type":{"type":"enum","name":"TaskOutcomeKind","namespace":"churn.v1","doc":"What came of a contact task. Readers that meet a newer symbol read it as COMPLETED.","symbols":["RETAINED","PAUSED","DOWNGRADED","LOST","COMPLETED","NO_CONTACT"],"default":"COMPLETED"}},{"name":"note","type":["null","string"],"default":null,"doc":"Agent's free-text note. Personal data: never logged.","pii":true}]},
};

/** Every topic of the public interface. */
export type TopicName = 'customer.profiles.v1' | 'billing.invoices.v1' | 'customer.cancellations.v1' | 'customer.surveys.v1' | 'contact-center.task-outcomes.v1' | 'churn.customer-value.v1' | 'churn.decisions.v1' | 'contact-center.tasks.v1' | 'churn.alerts.v1';

/** The record each topic carries. */
export interface TopicRecords {
  'customer.profiles.v1': CustomerProfile;
  'billing.invoices.v1': InvoiceEvent;
  'customer.cancellations.v1': CancellationRequested;
  'customer.surveys.v1': SurveyResult;
  'contact-center.task-outcomes.v1': TaskOutcome;
  'churn.customer-value.v1': CustomerValue;
  'churn.decisions.v1': ChurnDecision;
  'contact-center.tasks.v1': ContactTask;
  'churn.alerts.v1': ChurnAlert;
}

export interface TopicEntry {
  topic: TopicName;
  record: RecordName;
  role: 'input' | 'output';
  /** A compacted topic keeps the latest record per key. */
  compacted: boolean;
}

/** The topic catalogue (schemas/topics.json). */
export const topicCatalogue: readonly TopicEntry[] = [
  {
    topic: 'customer.profiles.v1',
    record: 'CustomerProfile',
    role: 'input',
    compacted: true
  },
  {
    topic: 'billing.invoices.v1',
    record: 'InvoiceEvent',
    role: 'input',
    compacted: false
  },
  {
    topic: 'customer.cancellations.v1',
    record: 'CancellationRequested',
    role: 'input',
    compacted: false
  },
  {
    topic: 'customer.surveys.v1',
    record: 'SurveyResult',
    role: 'input',
    compacted: false
  },
  {
    topic: 'contact-center.task-outcomes.v1',
    record: 'TaskOutcome',
    role: 'input',
    compacted: false
  },
  {
    topic: 'churn.customer-value.v1',
    record: 'CustomerValue',
    role: 'output',
    compacted: true
  },
  {
    topic: 'churn.decisions.v1',
    record: 'ChurnDecision',
    role: 'output',
    compacted: false
  },
  {
    topic: 'contact-center.tasks.v1',
    record: 'ContactTask',
    role: 'output',
    compacted: false
  },
  {
    topic: 'churn.alerts.v1',
    record: 'ChurnAlert',
    role: 'output',
    compacted: false
  }
];
