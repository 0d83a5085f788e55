/**
 * Fixture builders for the contract records: a valid record with sensible defaults,
 * overridden field by field. Tests say only what matters to them:
 * `aCancellation({ reason: 'PRICE' })`.
 */
import type {
  CancellationRequested,
  ChurnAlert,
  ChurnDecision,
  ContactTask,
  CustomerProfile,
  CustomerValue,
  InvoiceEvent,
  OfferEvaluation,
  SurveyResult,
  TaskOutcome,
} from '../generated/types.ts';

/** A fixed reference time for fixtures: 2026-01-15T09:00:00Z. */
export const FIXTURE_NOW = Date.UTC(2026, 0, 15, 9, 0, 0);
const DAY = 86_400_000;

export function newEventId(): string {
  return crypto.randomUUID();
}

export function aCustomerProfile(overrides: Partial<CustomerProfile> = {}): CustomerProfile {
  return {
    eventId: newEventId(),
    occurredAt: FIXTURE_NOW - 400 * DAY,
    customerId: 'cust-0001',
    segment: 'B2B',
    signedUpAt: FIXTURE_NOW - 400 * DAY,
    acquisitionCost: 2_500_000,
    currency: 'DKK',
    potential: 'RETAIN',
    accountManager: 'am-042',
    executiveSponsor: 'exec-007',
    plan: 'business-pro',
    ...overrides,
  };
}

export function anInvoice(overrides: Partial<InvoiceEvent> = {}): InvoiceEvent {
  const issuedAt = overrides.issuedAt ?? FIXTURE_NOW - 30 * DAY;
  return {
    eventId: newEventId(),
    occurredAt: issuedAt,
    invoiceId: `inv-${Math.floor(issuedAt / DAY)}`,
    customerId: 'cust-0001',
    status: 'ISSUED',
    amount: 5_000_000,
    currency: 'DKK',
    costToServe: 3_000_000,
    issuedAt,
    dueAt: issuedAt + 30 * DAY,
    paidAt: null,
    ...overrides,
  };
}

export function aCancellation(overrides: Partial<CancellationRequested> = {}): CancellationRequested {
  return {
    eventId: newEventId(),
    occurredAt: FIXTURE_NOW,
    cancellationId: 'canc-0001',
    customerId: 'cust-0001',
    subscriptionId: 'sub-0001',
    effectiveAt: FIXTURE_NOW + 30 * DAY,
    channel: 'PHONE',
    reason: 'PRICE',
    reasonText: 'Too expensive since the price change',
    ...overrides,
  };
}

export function aSurveyResult(overrides: Partial<SurveyResult> = {}): SurveyResult {
  return {
    eventId: newEventId(),
    occurredAt: FIXTURE_NOW,
    surveyId: 'survey-0001',
    customerId: 'cust-0001',
    kind: 'NPS',
    status: 'ANSWERED',
    score: 9,
    comment: 'Great support team',
    ...overrides,
  };
}

export function aTaskOutcome(overrides: Partial<TaskOutcome> = {}): TaskOutcome {
  return {
    eventId: newEventId(),
    occurredAt: FIXTURE_NOW,
    taskId: 'task-0001',
    customerId: 'cust-0001',
    outcome: 'RETAINED',
    note: 'Accepted the downgrade',
    ...overrides,
  };
}

export function aCustomerValue(overrides: Partial<CustomerValue> = {}): CustomerValue {
  return {
    customerId: 'cust-0001',
    asOf: FIXTURE_NOW,
    currency: 'DKK',
    revenue12m: 61_200_000,
    margin12m: 18_360_000,
    tier: 'B',
    track: 'RETAIN',
    tenureDays: 400,
    acquisitionCost: 2_500_000,
    cumulativeMargin: 20_000_000,
    paybackReached: true,
    remainingLifetimeValue: 76_500_000,
    overdueInvoices: 0,
    lastNps: 8,
    unansweredSurveys: 0,
    eventId: newEventId(),
    causationId: null,
    segment: 'B2B',
    accountManager: 'am-042',
    executiveSponsor: 'exec-007',
    signedUpAt: FIXTURE_NOW - 400 * DAY,
    ...overrides,
  };
}

export function anOfferEvaluation(overrides: Partial<OfferEvaluation> = {}): OfferEvaluation {
  return {
    offer: 'DOWNGRADE',
    probability: 0.5,
    expectedValue: 3_000_000,
    prior: 0.5,
    observedSaves: 0,
    observedTries: 0,
    cohortMultiplier: null,
    ...overrides,
  };
}

export function aChurnDecision(overrides: Partial<ChurnDecision> = {}): ChurnDecision {
  const value = overrides.value ?? aCustomerValue();
  return {
    eventId: newEventId(),
    occurredAt: FIXTURE_NOW,
    decisionId: 'decision-0001',
    customerId: value.customerId,
    cancellationId: 'canc-0001',
    causationId: newEventId(),
    action: 'WIN_BACK',
    offer: 'DOWNGRADE',
    tier: value.tier,
    track: value.track,
    expectedValue: 3_000_000,
    offersWeighed: [
      anOfferEvaluation(),
      anOfferEvaluation({ offer: 'LOYALTY_BONUS', probability: 0.35, expectedValue: 1_000_000 }),
    ],
    reasons: ['The customer cancels because of the price; a cheaper plan is worth more than letting them go.'],
    policyVersion: 'default-2026.1',
    respondBy: FIXTURE_NOW + 3 * DAY,
    value,
    reason: 'PRICE',
    priority: 'P2',
    arm: null,
    cohort: null,
    monthlyChurnHazard: null,
    learnedAsOf: null,
    ...overrides,
  };
}

export function aContactTask(overrides: Partial<ContactTask> = {}): ContactTask {
  return {
    eventId: newEventId(),
    occurredAt: FIXTURE_NOW,
    taskId: 'task-0001',
    customerId: 'cust-0001',
    causationId: newEventId(),
    kind: 'RETENTION_CALL',
    queue: 'owner:am-042',
    priority: 'P2',
    dueAt: FIXTURE_NOW + 3 * DAY,
    offer: 'DOWNGRADE',
    instructions: 'Call the customer and offer a cheaper plan before the cancellation takes effect.',
    ...overrides,
  };
}

export function aChurnAlert(overrides: Partial<ChurnAlert> = {}): ChurnAlert {
  return {
    eventId: newEventId(),
    occurredAt: FIXTURE_NOW,
    alertId: 'alert-0001',
    causationId: newEventId(),
    kind: 'HIGH_VALUE_AT_RISK',
    severity: 'CRITICAL',
    customerId: 'cust-0001',
    owner: 'am-042',
    message: 'A tier A customer asked to cancel.',
    ...overrides,
  };
}
