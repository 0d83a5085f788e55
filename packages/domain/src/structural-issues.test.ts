import type { CancellationReason, ChurnAlert } from '@churn/contracts';
import { validateRecord } from '@churn/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Emitted } from './processor.ts';
import { detectStructuralIssues, type StructuralIssueState } from './structural-issues.ts';
import { aCancellationOf, aContext, DAY, FIXTURE_NOW } from './testing/index.ts';

const T0 = FIXTURE_NOW;

function cancellation(customer: number, at: number, reason: CancellationReason = 'PRODUCT_GAP') {
  return aCancellationOf(
    { customerId: `cust-${customer}` },
    { reason, occurredAt: at, cancellationId: `c-${customer}-${at}` },
  );
}

function run(events: ReturnType<typeof cancellation>[], from?: StructuralIssueState) {
  let state = from;
  const emitted: Emitted[] = [];
  for (const e of events) {
    const result = detectStructuralIssues(e, state, aContext({ now: e.occurredAt }));
    state = result.state;
    emitted.push(...result.emit);
  }
  return { state, alerts: emitted.map((e) => e.value as ChurnAlert), emitted };
}

describe('detecting structural issues', () => {
  it('alerts management when 5 customers cancel for the same structural reason within 30 days', () => {
    const four = [1, 2, 3, 4].map((c) => cancellation(c, T0 + c * DAY));
    expect(run(four).alerts).toEqual([]);
    const { alerts, emitted } = run([...four, cancellation(5, T0 + 29 * DAY)]);
    expect(alerts).toMatchObject([{ kind: 'STRUCTURAL_ISSUE', owner: 'management', customerId: null }]);
    expect(emitted[0]?.key).toBe('PRODUCT_GAP');
    expect(validateRecord('ChurnAlert', alerts[0])).toMatchObject({ ok: true });
  });

  it('does not count cancellations more than 30 days apart together', () => {
    const spread = [0, 8, 16, 24, 32].map((d, i) => cancellation(i, T0 + d * DAY));
    expect(run(spread).alerts).toEqual([]);
  });

  it('counts a customer who cancels repeatedly once', () => {
    const same = [1, 2, 3, 4, 5, 6].map((d) => cancellation(1, T0 + d * DAY));
    expect(run([...same, ...[2, 3, 4].map((c) => cancellation(c, T0 + 7 * DAY))]).alerts).toEqual([]);
  });

  it('alerts once per window, however many more customers cancel', () => {
    const many = Array.from({ length: 12 }, (_, c) => cancellation(c, T0 + c * DAY));
    expect(run(many).alerts).toHaveLength(1);
    const later = Array.from({ length: 5 }, (_, c) => cancellation(100 + c, T0 + 45 * DAY + c * DAY));
    expect(run([...many, ...later]).alerts).toHaveLength(2);
  });

  it.each(['SERVICE_ISSUE', 'PRODUCT_GAP'] as const)('treats %s as a possibly structural reason', (reason) => {
    expect(run([1, 2, 3, 4, 5].map((c) => cancellation(c, T0 + c * DAY, reason))).alerts).toHaveLength(1);
  });

  it.each(['PRICE', 'LIFE_CHANGE', 'COMPETITOR'] as const)('does not treat %s as structural', (reason) => {
    expect(run([1, 2, 3, 4, 5, 6].map((c) => cancellation(c, T0 + c * DAY, reason))).alerts).toEqual([]);
  });

  it('counts a late cancellation at its own time', () => {
    const recent = [1, 2, 3, 4].map((c) => cancellation(c, T0 + 40 * DAY + c * DAY));
    expect(run([...recent, cancellation(9, T0)]).alerts).toEqual([]);
    expect(run([...recent, cancellation(9, T0 + 20 * DAY)]).alerts).toHaveLength(1);
  });

  it('changes nothing when the same cancellation is processed twice, in any history', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(8), fc.nat(60)), { maxLength: 20 }), fc.nat(), (rows, pick) => {
        fc.pre(rows.length > 0);
        const events = rows.map(([c, d]) => cancellation(c, T0 + d * DAY));
        const { state } = run(events);
        const again = events[pick % events.length]!;
        const result = detectStructuralIssues(again, state, aContext({ now: again.occurredAt }));
        expect(result.emit).toEqual([]);
        expect(result.state).toEqual(state);
      }),
    );
  });
});
