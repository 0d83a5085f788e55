import type { CustomerValue, InvoiceEvent } from '@churn/contracts';
import { validateRecord } from '@churn/contracts';
import { aCustomerProfile, aSurveyResult } from '@churn/contracts/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CustomerValueEvent, type CustomerValueState, keepCustomerValue, tierOf } from './customer-value.ts';
import { deriveId } from './ids.ts';
import { loadPolicy } from './policy.ts';
import type { Emitted, ProcessorContext } from './processor.ts';
import { aContext, anInvoiceOf, DAY, defaultPolicy, defaultPolicyDocument, FIXTURE_NOW, ORE } from './testing/index.ts';

const T0 = FIXTURE_NOW;

/** Runs events through the processor in order, each at its own event time; returns the state and every snapshot. */
function run(events: readonly CustomerValueEvent[], ctx: Partial<ProcessorContext> = {}, from?: CustomerValueState) {
  let state = from;
  const snapshots: CustomerValue[] = [];
  for (const event of events) {
    const now = 'at' in event ? event.at : event.occurredAt;
    const result = keepCustomerValue(event, state, { ...aContext({ now }), ...ctx, now });
    state = result.state;
    for (const e of result.emit) snapshots.push(snapshotIn(e));
  }
  return { state: state!, snapshots, last: snapshots.at(-1) };
}

function snapshotIn(e: Emitted): CustomerValue {
  if (e.topic !== 'churn.customer-value.v1') throw new Error(`unexpected topic ${e.topic}`);
  return e.value;
}

const profile = (o: Parameters<typeof aCustomerProfile>[0] = {}) =>
  aCustomerProfile({
    eventId: deriveId('profile', String(o.occurredAt ?? T0 - 400 * DAY)),
    occurredAt: T0 - 400 * DAY,
    signedUpAt: T0 - 400 * DAY,
    acquisitionCost: 20_000 * ORE,
    ...o,
  });

/** Monthly invoices of `amount` (major units) for `months` months, the newest issued 10 days before T0. */
function monthly(months: number, amount: number, costToServe: number | null = null): InvoiceEvent[] {
  return Array.from({ length: months }, (_, i) =>
    anInvoiceOf({ issuedAt: T0 - 10 * DAY - (months - 1 - i) * 30 * DAY, amount, costToServe }),
  );
}

describe('keeping customer value', () => {
  it('sums invoiced revenue over the last 12 months and leaves older invoices out', () => {
    const { last } = run([
      profile(),
      anInvoiceOf({ issuedAt: T0 - 400 * DAY, amount: 99_000 }),
      anInvoiceOf({ issuedAt: T0 - 200 * DAY, amount: 40_000 }),
      anInvoiceOf({ issuedAt: T0 - 20 * DAY, amount: 60_000 }),
    ]);
    expect(last?.revenue12m).toBe(100_000 * ORE);
  });

  it('takes margin from the cost to serve an invoice carries', () => {
    const { last } = run([profile(), anInvoiceOf({ amount: 10_000, costToServe: 7_500 })]);
    expect(last?.margin12m).toBe(2_500 * ORE);
  });

  it("uses the policy's default gross margin rate (30%) when an invoice carries no cost", () => {
    const { last } = run([profile(), anInvoiceOf({ amount: 10_000, costToServe: null })]);
    expect(last?.margin12m).toBe(3_000 * ORE);
  });

  it('counts an invoice once when its ISSUED event is delivered twice', () => {
    const issued = anInvoiceOf({ amount: 10_000 });
    const { last, state } = run([profile(), issued, issued]);
    expect(last?.revenue12m).toBe(10_000 * ORE);
    expect(state.cumulativeMargin).toBe(3_000 * ORE);
  });

  it('does not double revenue when an invoice is paid after it was issued', () => {
    const issued = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000 });
    const paid = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000, status: 'PAID', occurredAt: T0 - 5 * DAY });
    const { snapshots } = run([profile(), issued, paid]);
    expect(snapshots.at(-1)?.revenue12m).toBe(10_000 * ORE);
    // Nothing a reader acts on changed with the payment, so no new snapshot.
    expect(snapshots.filter((s) => s.revenue12m === 10_000 * ORE)).toHaveLength(1);
  });

  it('counts an invoice whose PAID event arrives before its ISSUED event once', () => {
    const issued = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000 });
    const paid = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000, status: 'PAID', occurredAt: T0 - 5 * DAY });
    const { last } = run([profile(), paid, { ...issued, occurredAt: T0 - 4 * DAY }]);
    expect(last?.revenue12m).toBe(10_000 * ORE);
  });

  it('reduces revenue and cost by a credit note', () => {
    const issued = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000, costToServe: 6_000 });
    const credited = anInvoiceOf({
      invoiceId: 'inv-1',
      amount: 4_000,
      costToServe: 2_000,
      status: 'CREDITED',
      occurredAt: T0 - 5 * DAY,
    });
    const { last } = run([profile(), issued, credited, credited]);
    expect(last?.revenue12m).toBe(6_000 * ORE);
    expect(last?.margin12m).toBe(2_000 * ORE);
  });

  it('reduces revenue but not the cost to serve when an invoice is written off', () => {
    const issued = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000, costToServe: 6_000 });
    const overdue = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000, status: 'OVERDUE', occurredAt: T0 - 3 * DAY });
    const writtenOff = anInvoiceOf({ invoiceId: 'inv-1', amount: 10_000, status: 'WRITTEN_OFF', occurredAt: T0 });
    const { last } = run([profile(), issued, overdue, writtenOff]);
    expect(last?.revenue12m).toBe(0);
    expect(last?.margin12m).toBe(-6_000 * ORE);
    expect(last?.overdueInvoices).toBe(0);
  });

  it('counts overdue invoices until they are paid', () => {
    const a = anInvoiceOf({ invoiceId: 'a', amount: 1_000, issuedAt: T0 - 60 * DAY });
    const b = anInvoiceOf({ invoiceId: 'b', amount: 1_000, issuedAt: T0 - 50 * DAY });
    const overdue = (inv: InvoiceEvent) => ({
      ...inv,
      eventId: deriveId(inv.eventId, 'overdue'),
      status: 'OVERDUE' as const,
      occurredAt: T0 - 5 * DAY,
    });
    const paid = { ...a, eventId: deriveId(a.eventId, 'paid'), status: 'PAID' as const, occurredAt: T0 };
    const before = run([profile(), a, b, overdue(a), overdue(b)]);
    expect(before.last?.overdueInvoices).toBe(2);
    expect(run([paid], {}, before.state).last?.overdueInvoices).toBe(1);
  });

  it.each([
    ['B2B', 500_000, 'A'],
    ['B2B', 499_999, 'B'],
    ['B2B', 100_000, 'B'],
    ['B2B', 99_999, 'C'],
    ['B2B', 20_000, 'C'],
    ['B2B', 19_999, 'D'],
    ['B2C', 10_000, 'A'],
    ['B2C', 9_999, 'B'],
    ['B2C', 3_000, 'B'],
    ['B2C', 2_999, 'C'],
    ['B2C', 1_000, 'C'],
    ['B2C', 999, 'D'],
  ] as const)('places a %s customer with %d in revenue over 12 months in tier %s', (segment, revenue, tier) => {
    const { last } = run([profile({ segment }), anInvoiceOf({ amount: revenue })]);
    expect(last?.tier).toBe(tier);
  });

  it('puts a customer with growth potential on the GROW track and one without on RETAIN', () => {
    expect(run([profile({ potential: 'GROW' })]).last?.track).toBe('GROW');
    expect(run([profile({ potential: 'RETAIN' })]).last?.track).toBe('RETAIN');
  });

  it('keeps tenure, acquisition cost and cumulative margin, and says when payback is reached', () => {
    const cac = 10_000;
    const events = [profile({ acquisitionCost: cac * ORE, signedUpAt: T0 - 200 * DAY }), ...monthly(6, 5_000)];
    const { snapshots, last } = run(events);
    // 30% of 5 000 = 1 500 a month: payback after the seventh invoice, so not yet after six.
    expect(last?.cumulativeMargin).toBe(9_000 * ORE);
    expect(last?.paybackReached).toBe(false);
    expect(last?.acquisitionCost).toBe(cac * ORE);
    expect(last?.tenureDays).toBe(190);
    expect(snapshots.every((s) => !s.paybackReached)).toBe(true);
    const after = run([anInvoiceOf({ issuedAt: T0, amount: 5_000 })], {}, run(events).state);
    expect(after.last?.paybackReached).toBe(true);
  });

  it('values the remaining lifetime as monthly margin times 1 / monthly churn (50 months)', () => {
    const { last } = run([profile({ signedUpAt: T0 - 800 * DAY }), ...monthly(12, 10_000)]);
    // 12 x 3 000 margin = 36 000 a year, 3 000 a month, x 50 months.
    expect(last?.margin12m).toBe(36_000 * ORE);
    expect(last?.remainingLifetimeValue).toBe(150_000 * ORE);
  });

  it('caps the expected remaining months (60 by default)', () => {
    const doc = structuredClone(defaultPolicyDocument) as { value: { monthlyChurnRate: number } };
    doc.value.monthlyChurnRate = 0.01;
    const policy = loadPolicy(doc);
    const { last } = run([profile({ signedUpAt: T0 - 800 * DAY }), ...monthly(12, 10_000)], { policy });
    expect(last?.remainingLifetimeValue).toBe(3_000 * 60 * ORE);
  });

  it('lowers the retention outlook of a customer who is repeatedly silent', () => {
    const base = run([profile({ signedUpAt: T0 - 800 * DAY }), ...monthly(12, 10_000)]);
    const unanswered = (n: number) =>
      aSurveyResult({
        eventId: deriveId('survey', String(n)),
        surveyId: `s-${n}`,
        status: 'UNANSWERED',
        score: null,
        occurredAt: T0 + n * DAY,
      });
    const once = run([unanswered(1)], {}, base.state).last!;
    const twice = run([unanswered(2)], {}, run([unanswered(1)], {}, base.state).state).last!;
    expect(once.remainingLifetimeValue).toBe(base.last!.remainingLifetimeValue);
    expect(twice.unansweredSurveys).toBe(2);
    expect(twice.remainingLifetimeValue).toBeLessThan(once.remainingLifetimeValue);
  });

  it('keeps the last NPS score and counts unanswered surveys in a row until the next answer', () => {
    const survey = (n: number, o: Parameters<typeof aSurveyResult>[0]) =>
      aSurveyResult({ eventId: deriveId('s', String(n)), surveyId: `s-${n}`, occurredAt: T0 + n * DAY, ...o });
    const { snapshots } = run([
      profile(),
      survey(1, { score: 4 }),
      survey(2, { status: 'UNANSWERED', score: null }),
      survey(3, { status: 'UNANSWERED', score: null }),
      survey(4, { kind: 'CSAT', score: 5 }),
      survey(5, { status: 'UNANSWERED', score: null }),
    ]);
    expect(snapshots.map((s) => [s.lastNps, s.unansweredSurveys])).toEqual([
      [null, 0],
      [4, 0],
      [4, 1],
      [4, 2],
      [4, 0],
      [4, 1],
    ]);
  });

  it('does not let a late, older NPS answer replace a newer one', () => {
    const newer = aSurveyResult({ surveyId: 'new', score: 9, occurredAt: T0 });
    const older = aSurveyResult({ surveyId: 'old', score: 2, occurredAt: T0 - 30 * DAY });
    expect(run([profile(), newer, older]).state.lastNps).toBe(9);
  });

  it('rolls the window forward on a clock tick when no facts arrive', () => {
    const start = run([profile({ segment: 'B2B' }), anInvoiceOf({ issuedAt: T0, amount: 600_000 })]);
    expect(start.last?.tier).toBe('A');
    const later = run([{ type: 'Tick', at: T0 + 400 * DAY, customerId: 'cust-0001' }], {}, start.state);
    expect(later.last?.revenue12m).toBe(0);
    expect(later.last?.tier).toBe('D');
  });

  it('leaves the state as it is on a tick within the month, and moves it on at the first tick of a new month', () => {
    const start = run([profile({ segment: 'B2B' }), anInvoiceOf({ issuedAt: T0, amount: 600_000 })]).state!;
    const nextMonth = Date.UTC(new Date(T0).getUTCFullYear(), new Date(T0).getUTCMonth() + 1, 1);
    const sameMonth = Math.max(start.asOf, nextMonth - DAY);
    const tick = (at: number) => ({ type: 'Tick' as const, at, customerId: 'cust-0001' });
    const within = keepCustomerValue(tick(sameMonth), start, aContext({ now: sameMonth }));
    expect(within.state).toBe(start);
    expect(within.emit).toEqual([]);
    const moved = keepCustomerValue(tick(nextMonth), start, aContext({ now: nextMonth })).state!;
    expect(moved.asOf).toBe(nextMonth);
  });

  it('emits snapshots that satisfy the CustomerValue contract, keyed by customer, caused by the event', () => {
    const events = [profile(), ...monthly(3, 1_234)];
    const result = keepCustomerValue(events[0]!, undefined, aContext({ now: events[0]!.occurredAt }));
    const [out] = result.emit;
    expect(out?.key).toBe('cust-0001');
    expect(out?.topic).toBe('churn.customer-value.v1');
    expect((out?.value as CustomerValue | undefined)?.causationId).toBe(events[0]!.eventId);
    for (const s of run(events).snapshots) expect(validateRecord('CustomerValue', s)).toMatchObject({ ok: true });
  });

  it('stays small: five years of monthly invoices keep a state under 1000 bytes of JSON', () => {
    const signedUpAt = T0 - 2000 * DAY;
    const { state, last } = run([profile({ signedUpAt, occurredAt: signedUpAt }), ...monthly(60, 12_345, 8_000)]);
    expect(last?.cumulativeMargin).toBe(60 * 4_345 * ORE);
    expect(state.invoiceIds.length).toBeLessThanOrEqual(
      defaultPolicy.value.windowMonths + defaultPolicy.value.invoiceMemoryExtraMonths + 1,
    );
    expect(JSON.stringify(state).length).toBeLessThan(1000);
  });

  it('keeps cumulative margin over the whole life even after invoices leave the window', () => {
    const signedUpAt = T0 - 2000 * DAY;
    const { last } = run([profile({ signedUpAt, occurredAt: signedUpAt }), ...monthly(36, 10_000, 6_000)]);
    expect(last?.cumulativeMargin).toBe(36 * 4_000 * ORE);
    expect(last?.margin12m).toBeLessThanOrEqual(13 * 4_000 * ORE);
  });
});

describe('keeping customer value, for any history', () => {
  const invoiceEvents = fc
    .array(
      fc.record({
        id: fc.integer({ min: 0, max: 5 }),
        month: fc.integer({ min: 0, max: 10 }),
        amount: fc.integer({ min: 0, max: 1_000_000 }),
        cost: fc.option(fc.integer({ min: 0, max: 1_000_000 })),
        status: fc.constantFrom('ISSUED', 'PAID', 'OVERDUE', 'CREDITED', 'WRITTEN_OFF' as const),
      }),
      { maxLength: 25 },
    )
    .map((rows) => {
      // One issue date, amount and cost per invoice id, as billing would have it.
      const first = new Map<number, (typeof rows)[number]>();
      for (const r of rows) if (!first.has(r.id)) first.set(r.id, r);
      return rows.map((r, i) => {
        const inv = first.get(r.id)!;
        // One credit note and one write-off at most per invoice, each with its own amount.
        const credit = Math.floor(inv.amount / 4);
        const amount = r.status === 'CREDITED' ? credit : r.status === 'WRITTEN_OFF' ? inv.amount - credit : inv.amount;
        return anInvoiceOf({
          eventId: deriveId('prop', String(i)),
          invoiceId: `inv-${r.id}`,
          status: r.status,
          issuedAt: T0 - (10 - inv.month) * 30 * DAY,
          occurredAt: T0 - (10 - inv.month) * 30 * DAY + i * DAY,
          amount: amount / ORE,
          costToServe: inv.cost === null ? null : Math.min(inv.cost, amount) / ORE,
        });
      });
    });

  it('gives the same value whatever order the invoice events arrive in', () => {
    fc.assert(
      fc.property(
        invoiceEvents.chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length })),
        ),
        ([events, shuffled]) => {
          const at = T0 + 30 * DAY;
          const tick = { type: 'Tick' as const, at, customerId: 'cust-0001' };
          const inOrder = run([profile(), ...events, tick]).state;
          const outOfOrder = run([profile(), ...shuffled, tick]).state;
          const ctx = aContext({ now: at });
          const a = keepCustomerValue(tick, inOrder, ctx).state;
          const b = keepCustomerValue(tick, outOfOrder, ctx).state;
          expect(b.cumulativeMargin).toBe(a.cumulativeMargin);
          const entries = (s: typeof a) =>
            s.invoiceIds
              .map((id, i) => [id, s.invoiceMarks[i], s.invoiceAmounts[2 * i], s.invoiceAmounts[2 * i + 1]].join())
              .sort();
          expect(entries(b)).toEqual(entries(a));
        },
      ),
    );
  });

  it('changes nothing when the same event is processed twice', () => {
    fc.assert(
      fc.property(invoiceEvents, fc.nat(), (events, pick) => {
        fc.pre(events.length > 0);
        const { state } = run([profile(), ...events]);
        const again = events[pick % events.length]!;
        const result = keepCustomerValue(again, state, aContext({ now: again.occurredAt }));
        expect(result.emit).toEqual([]);
        expect(JSON.parse(JSON.stringify(result.state))).toEqual(JSON.parse(JSON.stringify(state)));
      }),
    );
  });

  it('places customers in tiers monotonic in revenue', () => {
    const rank = { A: 0, B: 1, C: 2, D: 3 } as const;
    fc.assert(
      fc.property(
        fc.constantFrom('B2B', 'B2C' as const),
        fc.integer({ min: 0, max: 10 ** 12 }),
        fc.integer({ min: 0, max: 10 ** 12 }),
        (segment, x, y) => {
          const [low, high] = x <= y ? [x, y] : [y, x];
          expect(rank[tierOf(defaultPolicy, segment, high, 'DKK')]).toBeLessThanOrEqual(
            rank[tierOf(defaultPolicy, segment, low, 'DKK')],
          );
        },
      ),
    );
  });
});
