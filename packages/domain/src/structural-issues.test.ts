import type { CancellationReason, ChurnAlert } from '@churn/contracts';
import { validateRecord } from '@churn/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Emitted } from './processor.ts';
import { detectStructuralIssues, type StructuralIssueState, structuralMark } from './structural-issues.ts';
import { aCancellationOf, aContext, DAY, FIXTURE_NOW } from './testing/index.ts';

const T0 = FIXTURE_NOW;

function cancellation(customer: number, at: number, reason: CancellationReason = 'PRODUCT_GAP') {
  return aCancellationOf(
    { customerId: `cust-${customer}` },
    { reason, occurredAt: at, cancellationId: `c-${customer}-${at}` },
  );
}

type Cancellation = ReturnType<typeof cancellation>;

/** Feeds `events` as they are (watermarks included), or followed by a watermark past them all. */
function run(events: Cancellation[], from?: StructuralIssueState, watermark = true) {
  let state = from;
  const emitted: Emitted[] = [];
  const last = Math.max(0, ...events.map((e) => e.occurredAt));
  const reason = events[0]?.reason ?? 'PRODUCT_GAP';
  const all = watermark ? [...events, structuralMark(reason, 0, 1, last + DAY)] : events;
  for (const e of all) {
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

  it('counts nothing until every source partition has passed a cancellation, then in time order', () => {
    const at = (d: number) => T0 + d * DAY;
    const mark = (p: number, d: number) => structuralMark('PRODUCT_GAP', p, 3, at(d));
    const five = [1, 2, 3, 4, 5].map((c) => cancellation(c, at(c)));
    // Partition 2 lags: no watermark past day 6 yet, nothing counts.
    const waiting = run([mark(0, 7), mark(1, 7), ...five, mark(2, 3)], undefined, false);
    expect(waiting.alerts).toEqual([]);
    expect(waiting.state?.pending).toHaveLength(3);
    // Once it passes them too, they count: one alert, caused by the fifth in time.
    const done = run([mark(2, 7)], waiting.state, false);
    expect(done.alerts).toHaveLength(1);
    expect(done.state?.pending).toEqual([]);
  });

  it('gives the same alerts however the partitions interleave on the way', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(12), fc.nat(50), fc.nat(2)), { minLength: 5, maxLength: 40 }),
        fc.nat(),
        (rows, seed) => {
          // Each partition's records, watermarks at each midnight they pass, in its own time order.
          const streams = [0, 1, 2].map((p) => {
            const mine = rows
              .filter(([, , q]) => q === p)
              .map(([c, d]) => cancellation(c + p * 100, T0 + d * DAY + 3_600_000))
              .sort((a, b) => a.occurredAt - b.occurredAt);
            const out: Cancellation[] = [];
            let day = 0;
            for (const e of mine) {
              while (T0 + day * DAY < e.occurredAt - DAY)
                out.push(structuralMark('PRODUCT_GAP', p, 3, T0 + ++day * DAY));
              out.push(e);
            }
            for (; day <= 52; ) out.push(structuralMark('PRODUCT_GAP', p, 3, T0 + ++day * DAY));
            return out;
          });
          const interleave = (s: number) => {
            const queues = streams.map((q) => [...q]);
            const merged: Cancellation[] = [];
            let x = s;
            while (queues.some((q) => q.length > 0)) {
              x = (x * 1103515245 + 12345) % 2147483648;
              const q = queues.filter((q) => q.length > 0)[x % queues.filter((q) => q.length > 0).length]!;
              merged.push(q.shift()!);
            }
            return merged;
          };
          const a = run(interleave(seed), undefined, false).alerts;
          const b = run(interleave(seed + 7), undefined, false).alerts;
          const inOrder = run(
            streams.flat().sort((x, y) => x.occurredAt - y.occurredAt),
            undefined,
            false,
          ).alerts;
          expect(a).toEqual(b);
          expect(a).toEqual(inOrder);
        },
      ),
    );
  });
});
