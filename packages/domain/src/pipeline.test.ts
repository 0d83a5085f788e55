/**
 * The processors together, as a runner wires them: customer value feeds the decision,
 * survey, invoice and follow-up processors through its snapshots. A whole history,
 * replayed, gives byte-identical outputs; delivered twice, it gives the same outputs once.
 */
import type {
  CancellationRequested,
  ChurnDecision,
  CustomerProfile,
  CustomerValue,
  InvoiceEvent,
  SurveyResult,
  TaskOutcome,
} from '@churn/contracts';
import { parseRecord } from '@churn/contracts';
import { aCustomerProfile, aSurveyResult } from '@churn/contracts/testing';
import { describe, expect, it } from 'vitest';
import { keepCustomerValue } from './customer-value.ts';
import { decideOnCancellation } from './decision.ts';
import { scheduleFollowUps } from './follow-up.ts';
import { deriveId } from './ids.ts';
import { signalInvoice } from './invoice-signals.ts';
import type { Emitted, ProcessorContext, Tick } from './processor.ts';
import { detectStructuralIssues } from './structural-issues.ts';
import { routeSurvey } from './survey-routing.ts';
import { aCancellationOf, aContext, anInvoiceOf, DAY, FIXTURE_NOW, ORE } from './testing/index.ts';

type Input = CustomerProfile | InvoiceEvent | SurveyResult | CancellationRequested | TaskOutcome | Tick;

const T0 = FIXTURE_NOW;
const RECORD = {
  'churn.customer-value.v1': 'CustomerValue',
  'churn.decisions.v1': 'ChurnDecision',
  'contact-center.tasks.v1': 'ContactTask',
  'churn.alerts.v1': 'ChurnAlert',
} as const;

/** A one-customer, in-memory runner: state per processor, value snapshots fed downstream. */
function replay(log: readonly Input[]): Emitted[] {
  const states: Record<string, unknown> = {};
  const out: Emitted[] = [];
  const step = <E, S>(
    name: string,
    fn: (e: E, s: S | undefined, c: ProcessorContext) => { state: S; emit: readonly Emitted[] },
    e: E,
    ctx: ProcessorContext,
  ) => {
    const result = fn(e, states[name] as S | undefined, ctx);
    states[name] = result.state;
    out.push(...result.emit);
    return result.emit;
  };
  const feedValue = (emitted: readonly Emitted[], ctx: ProcessorContext) => {
    for (const e of emitted) {
      if (e.topic !== 'churn.customer-value.v1') continue;
      const snapshot: CustomerValue = e.value;
      step('decide', decideOnCancellation, snapshot, ctx);
      step('survey', routeSurvey, snapshot, ctx);
      step('invoice', signalInvoice, snapshot, ctx);
      step('followUp', scheduleFollowUps, snapshot, ctx);
    }
  };
  for (const event of log) {
    const now = 'type' in event ? event.at : event.occurredAt;
    const ctx = aContext({ now });
    if ('type' in event) {
      feedValue(step('value', keepCustomerValue, { ...event, customerId: 'cust-0001' }, ctx), ctx);
      step('followUp', scheduleFollowUps, event, ctx);
    } else if ('cancellationId' in event) {
      step('decide', decideOnCancellation, event, ctx);
      step('structural', detectStructuralIssues, event, ctx);
    } else if ('taskId' in event) {
      step('followUp', scheduleFollowUps, event, ctx);
    } else if ('invoiceId' in event) {
      feedValue(step('value', keepCustomerValue, event, ctx), ctx);
      step('invoice', signalInvoice, event, ctx);
    } else if ('surveyId' in event) {
      feedValue(step('value', keepCustomerValue, event, ctx), ctx);
      step('survey', routeSurvey, event, ctx);
    } else {
      feedValue(step('value', keepCustomerValue, event, ctx), ctx);
    }
  }
  return out;
}

const profile = aCustomerProfile({
  eventId: deriveId('profile', 'cust-0001'),
  occurredAt: T0 - 400 * DAY,
  signedUpAt: T0 - 400 * DAY,
  potential: 'GROW',
  acquisitionCost: 250_000 * ORE,
  accountManager: 'am-7',
  executiveSponsor: 'exec-2',
});
const invoices = Array.from({ length: 12 }, (_, i) =>
  anInvoiceOf({ invoiceId: `inv-${i}`, issuedAt: T0 - (340 - i * 30) * DAY, amount: 51_000, costToServe: 35_700 }),
);
const overdue = anInvoiceOf({
  invoiceId: 'inv-11',
  issuedAt: invoices[11]!.issuedAt,
  status: 'OVERDUE',
  occurredAt: T0 - 2 * DAY,
  amount: 51_000,
});
const detractor = aSurveyResult({
  eventId: deriveId('survey', 'nps-1'),
  surveyId: 'nps-1',
  score: 3,
  occurredAt: T0 - DAY,
});
const cancellation = aCancellationOf(
  { customerId: 'cust-0001' },
  { reason: 'COMPETITOR', occurredAt: T0, effectiveAt: T0 + 10 * DAY },
);
const log: Input[] = [profile, ...invoices, overdue, detractor, cancellation, { type: 'Tick', at: T0 + 30 * DAY }];

describe('the processors together', () => {
  const outputs = replay(log);

  it('decides on a cancellation with the value kept from the invoices', () => {
    const decision = outputs.find((e) => e.topic === 'churn.decisions.v1')!.value as ChurnDecision;
    expect(decision.reasons[0]).toBe(
      'Revenue over the last 12 months is 612 000 DKK (tier A, GROW track); margin is 183 600 DKK.',
    );
    expect(decision).toMatchObject({ action: 'WIN_BACK', offer: 'EXECUTIVE_ESCALATION', tier: 'A', track: 'GROW' });
    expect(decision.value.overdueInvoices).toBe(1);
  });

  it('raises every signal the history calls for', () => {
    const kinds = outputs.map((e) =>
      e.topic === 'churn.alerts.v1' || e.topic === 'contact-center.tasks.v1' ? e.value.kind : e.topic,
    );
    expect(kinds).toEqual(
      expect.arrayContaining([
        'PAYMENT_FOLLOW_UP',
        'PAYMENT_RISK',
        'SERVICE_RECOVERY',
        'HIGH_VALUE_DETRACTOR',
        'FOLLOW_UP',
        'DIALOGUE_OVERDUE',
        'HIGH_VALUE_AT_RISK',
        'EARLY_TENURE_CANCELLATION',
      ]),
    );
  });

  it('emits only records that parse against their contracts', () => {
    for (const e of outputs) expect(() => parseRecord(RECORD[e.topic], e.value)).not.toThrow();
  });

  it('gives byte-identical outputs when the history is replayed', () => {
    expect(JSON.stringify(replay(log))).toBe(JSON.stringify(outputs));
  });

  it('gives the same outputs when every event is delivered twice', () => {
    const twice = log.flatMap((e) => [e, e]);
    expect(JSON.stringify(replay(twice))).toBe(JSON.stringify(outputs));
  });

  it('gives every output a distinct event id', () => {
    const ids = outputs.map((e) => e.value.eventId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
