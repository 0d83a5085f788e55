import { aCustomerProfile } from '@churn/contracts/testing';
import { describe, expect, it } from 'vitest';
import { type CancellationState, decideOnCancellation } from './decision.ts';
import { aCancellationOf, aContext, anInvoiceOf, DAY, FIXTURE_NOW } from './testing/index.ts';
import { tickValue, updateOwn, updateValue, type WithValue } from './with-customer-value.ts';

const customerId = 'cust-0001';
const profile = aCustomerProfile({ customerId, segment: 'B2B', occurredAt: FIXTURE_NOW - 400 * DAY });

/** Twelve paid monthly invoices of 60 000 (tier A for B2B), the last a month ago. */
function history(state: WithValue<CancellationState> | undefined) {
  let s = updateValue(profile, state, decideOnCancellation, aContext({ now: profile.occurredAt })).state;
  for (let m = 12; m >= 1; m--) {
    const invoice = anInvoiceOf({
      customerId,
      invoiceId: `inv-${m}`,
      issuedAt: FIXTURE_NOW - m * 30 * DAY,
      amount: 60_000,
      costToServe: 30_000,
    });
    s = updateValue(invoice, s, decideOnCancellation, aContext({ now: invoice.occurredAt })).state;
  }
  return s;
}

describe('a processor that keeps the customer value itself', () => {
  it('decides on a cancellation with the value of every invoice before it', () => {
    const state = history(undefined);
    const result = updateOwn(
      aCancellationOf({ customerId }, { reason: 'COMPETITOR' }),
      state,
      decideOnCancellation,
      aContext(),
    );
    const decision = result.emit.find((e) => e.topic === 'churn.decisions.v1')?.value as {
      value: { revenue12m: number; tier: string };
    };
    expect(decision.value.tier).toBe('A');
    expect(decision.value.revenue12m).toBe(12 * 60_000 * 100);
  });

  it('joins the snapshots without emitting them: the customer-value service publishes those', () => {
    const state = history(undefined);
    const invoice = anInvoiceOf({ customerId, invoiceId: 'inv-late', issuedAt: FIXTURE_NOW - DAY, amount: 1_000 });
    const result = updateValue(invoice, state, decideOnCancellation, aContext({ now: invoice.occurredAt }));
    expect(result.state.value).not.toBe(state.value);
    expect(result.emit).toEqual([]);
    // The joined snapshot is the one this invoice produced.
    expect(result.state.own?.value?.asOf).toBe(invoice.occurredAt);
    expect(result.state.own?.value?.causationId).toBe(invoice.eventId);
  });

  it('moves the 12-month window on with the clock, so old invoices stop counting', () => {
    const state = history(undefined);
    const later = tickValue(
      customerId,
      FIXTURE_NOW + 200 * DAY,
      state,
      decideOnCancellation,
      aContext({ now: FIXTURE_NOW + 200 * DAY }),
    );
    expect(later.state.own?.value?.revenue12m).toBeLessThan(12 * 60_000 * 100);
    expect(later.emit).toEqual([]);
  });

  it('changes nothing when an event is seen twice', () => {
    const state = history(undefined);
    const invoice = anInvoiceOf({
      customerId,
      invoiceId: 'inv-1',
      issuedAt: FIXTURE_NOW - 30 * DAY,
      amount: 60_000,
      costToServe: 30_000,
    });
    expect(updateValue(invoice, state, decideOnCancellation, aContext({ now: invoice.occurredAt })).state).toBe(state);
  });
});
