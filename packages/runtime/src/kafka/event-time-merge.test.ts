import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS } from './due-index.ts';
import { type MergeInput, mergeRanks, nextRecords, sharedTimeOf } from './event-time-merge.ts';

const MIDNIGHT = Date.UTC(2026, 2, 1);

interface Rec {
  readonly topic: string;
  readonly time: number;
  readonly bytes: number;
  readonly id: string;
}

const rec = (topic: string, time: number, id = `${topic}@${time}`, bytes = 10): Rec => ({ topic, time, bytes, id });

function input(buffers: Record<string, Rec[]>, overrides: Partial<MergeInput<Rec>> = {}): MergeInput<Rec> {
  const inputs = Object.keys(buffers);
  return {
    inputs,
    ranks: mergeRanks(inputs, []),
    buffers: new Map(Object.entries(buffers)),
    cursor: new Map(),
    fullyFetched: () => true,
    decodeRetrying: false,
    held: 0,
    heldBytes: 0,
    maxRecords: 5_000,
    maxBytes: 1024 * 1024,
    sharedAt: Number.NEGATIVE_INFINITY,
    waitingSince: null,
    now: 0,
    mergeIdleMs: 2_000,
    ...overrides,
  };
}

/** Picks everything in chunks of `chunk`, carrying the cursor as the open transaction would. */
function drainAll(m: MergeInput<Rec>, chunk: number): Rec[] {
  const out: Rec[] = [];
  let cursor = new Map(m.cursor);
  for (;;) {
    const r = nextRecords({ ...m, cursor, maxRecords: out.length + chunk, held: out.length });
    if (r.picked.length === 0) return out;
    out.push(...r.picked);
    cursor = r.cursor;
  }
}

const topics = ['a', 'b', 'c'] as const;
const buffersArb = fc.record({
  a: fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 15 }),
  b: fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 15 }),
  c: fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 15 }),
});
const toBuffers = (times: Record<(typeof topics)[number], number[]>, sorted: boolean): Record<string, Rec[]> =>
  Object.fromEntries(
    topics.map((t) => [
      t,
      (sorted ? [...times[t]].sort((x, y) => x - y) : times[t]).map((x, i) => rec(t, x, `${t}${i}`)),
    ]),
  );

describe('mergeRanks', () => {
  it('puts the shared topic first, then the catalogue order, then the other inputs in their order', () => {
    const ranks = mergeRanks(['x', 'cat2', 'shared', 'y', 'cat1'], ['cat1', 'cat2'], 'shared');
    expect(Object.fromEntries(ranks)).toEqual({ shared: -1, cat1: 0, cat2: 1, x: 2, y: 5 });
  });
});

describe('sharedTimeOf', () => {
  it('is the occurredAt of a shared record, -Infinity without one', () => {
    expect(sharedTimeOf({ occurredAt: 5 })).toBe(5);
    expect(sharedTimeOf(undefined)).toBe(Number.NEGATIVE_INFINITY);
    expect(sharedTimeOf({ occurredAt: 'no' })).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('nextRecords', () => {
  it('takes records in event-time order, ties by rank', () => {
    const r = nextRecords(input({ a: [rec('a', 2), rec('a', 5)], b: [rec('b', 1), rec('b', 5)], c: [rec('c', 3)] }));
    expect(r.picked.map((x) => x.id)).toEqual(['b@1', 'a@2', 'c@3', 'a@5', 'b@5']);
    expect(r.cursor).toEqual(
      new Map([
        ['b', 2],
        ['a', 2],
        ['c', 1],
      ]),
    );
    expect(r.bytes).toBe(50);
  });

  it('takes an undecodable record (time -Infinity) first', () => {
    const r = nextRecords(input({ a: [rec('a', 1)], b: [rec('b', Number.NEGATIVE_INFINITY, 'bad')] }));
    expect(r.picked.map((x) => x.id)).toEqual(['bad', 'a@1']);
  });

  it('stops at the record bound and at the byte bound, but always takes one record', () => {
    const buffers = { a: [rec('a', 1, 'a1', 600), rec('a', 2, 'a2', 600), rec('a', 3, 'a3', 600)] };
    expect(nextRecords(input(buffers, { maxRecords: 2 })).picked).toHaveLength(2);
    expect(nextRecords(input(buffers, { held: 1, maxRecords: 2 })).picked).toHaveLength(1);
    expect(nextRecords(input(buffers, { maxBytes: 1000 })).picked).toHaveLength(2);
    expect(nextRecords(input(buffers, { maxBytes: 1 })).picked).toHaveLength(1);
    expect(nextRecords(input(buffers, { heldBytes: 1000, maxBytes: 1000 })).picked).toHaveLength(0);
  });

  it('starts after the records the open transaction holds, and leaves the cursor it was given alone', () => {
    const cursor = new Map([['a', 1]]);
    const r = nextRecords(input({ a: [rec('a', 1), rec('a', 2)] }, { cursor }));
    expect(r.picked.map((x) => x.id)).toEqual(['a@2']);
    expect(cursor.get('a')).toBe(1);
    expect(r.cursor.get('a')).toBe(2);
  });

  it('waits up to mergeIdleMs for a topic with records still to fetch, then goes on without it', () => {
    const buffers = { a: [rec('a', 1)], b: [] };
    const fullyFetched = (t: string) => t !== 'b';
    const first = nextRecords(input(buffers, { fullyFetched, now: 10_000 }));
    expect(first.picked).toEqual([]);
    expect(first.waitingSince).toBe(10_000);
    expect(first.wakeInMs).toBe(2_000);
    const later = nextRecords(input(buffers, { fullyFetched, now: 11_500, waitingSince: 10_000 }));
    expect(later.picked).toEqual([]);
    expect(later.wakeInMs).toBe(500);
    const done = nextRecords(input(buffers, { fullyFetched, now: 12_000, waitingSince: 10_000 }));
    expect(done.picked.map((x) => x.id)).toEqual(['a@1']);
    expect(done.wakeInMs).toBeNull();
    expect(done.waitingSince).toBe(10_000);
  });

  it('waits up to owedWaitMs for a topic that owes records, then goes on without it', () => {
    const buffers = { a: [rec('a', 1)], b: [] };
    const fullyFetched = (t: string) => t !== 'b';
    const owed = (t: string) => t === 'b';
    const m = { fullyFetched, owed, owedWaitMs: 30_000, waitingSince: 10_000 };
    // Past mergeIdleMs, a topic that only may have records is given up on; one that owes them is not.
    expect(nextRecords(input(buffers, { fullyFetched, now: 12_000, waitingSince: 10_000 })).picked).toHaveLength(1);
    const owing = nextRecords(input(buffers, { ...m, now: 12_000 }));
    expect(owing.picked).toEqual([]);
    expect(owing.wakeInMs).toBe(28_000);
    expect(nextRecords(input(buffers, { ...m, now: 40_000 })).picked.map((x) => x.id)).toEqual(['a@1']);
    // Another topic owing records does not hold the merge when the awaited one does not owe any.
    const other = nextRecords(input(buffers, { ...m, owed: (t) => t === 'a', now: 12_000 }));
    expect(other.picked).toHaveLength(1);
  });

  it('stops waiting once nothing is awaited', () => {
    const r = nextRecords(input({ a: [rec('a', 1)] }, { waitingSince: 5, now: 6 }));
    expect(r.picked).toHaveLength(1);
    expect(r.waitingSince).toBeNull();
  });

  it('does not wait with nothing buffered at all, and keeps the wait as it was', () => {
    const r = nextRecords(input({ a: [], b: [] }, { fullyFetched: () => false, waitingSince: 7, now: 100_000 }));
    expect(r).toMatchObject({ picked: [], waitingSince: 7, wakeInMs: null });
  });

  it('waits however long while records wait for the registry', () => {
    const r = nextRecords(
      input(
        { a: [rec('a', 1)], b: [] },
        { fullyFetched: (t) => t !== 'b', decodeRetrying: true, waitingSince: 0, now: 1e9 },
      ),
    );
    expect(r).toMatchObject({ picked: [], waitingSince: null, wakeInMs: null });
  });

  it('gates a record until the shared record of its midnight is taken, or one of a later midnight says it will not come', () => {
    const shared = { topic: 's', gates: ['a'] };
    const day = MIDNIGHT + 3_600_000;
    const gated = nextRecords(input({ s: [], a: [rec('a', day)] }, { shared }));
    expect(gated.picked).toEqual([]);
    expect(gated.gatedAt).toBe(day);

    const withShared = nextRecords(input({ s: [rec('s', MIDNIGHT)], a: [rec('a', day)] }, { shared }));
    expect(withShared.picked.map((x) => x.id)).toEqual([`s@${MIDNIGHT}`, `a@${day}`]);

    const taken = nextRecords(input({ s: [], a: [rec('a', day)] }, { shared, sharedAt: MIDNIGHT }));
    expect(taken.picked).toHaveLength(1);

    const later = nextRecords(input({ s: [rec('s', MIDNIGHT + DAY_MS)], a: [rec('a', day)] }, { shared }));
    expect(later.picked.map((x) => x.id)).toEqual([`s@${MIDNIGHT + DAY_MS}`, `a@${day}`]);

    const ungated = nextRecords(input({ s: [], b: [rec('b', day)] }, { shared }));
    expect(ungated.picked).toHaveLength(1);
  });

  it('property: takes every record once, each topic in offset order', () => {
    fc.assert(
      fc.property(buffersArb, fc.integer({ min: 1, max: 10 }), (times, chunk) => {
        const m = input(toBuffers(times, false));
        const out = drainAll(m, chunk);
        const all = [...m.buffers.values()].flat();
        expect(out.map((x) => x.id).sort()).toEqual(all.map((x) => x.id).sort());
        for (const t of topics) {
          expect(out.filter((x) => x.topic === t)).toEqual(m.buffers.get(t));
        }
      }),
    );
  });

  it('property: with each topic in event-time order, the merge is in event-time order, ties by rank', () => {
    fc.assert(
      fc.property(buffersArb, (times) => {
        const m = input(toBuffers(times, true));
        const out = drainAll(m, 5_000);
        for (let i = 1; i < out.length; i++) {
          const [p, q] = [out[i - 1] as Rec, out[i] as Rec];
          expect(p.time <= q.time).toBe(true);
          if (p.time === q.time) expect((m.ranks.get(p.topic) ?? 0) <= (m.ranks.get(q.topic) ?? 0)).toBe(true);
        }
      }),
    );
  });

  it('property: the order does not depend on how many records a transaction takes', () => {
    fc.assert(
      fc.property(buffersArb, fc.integer({ min: 1, max: 7 }), (times, chunk) => {
        const m = input(toBuffers(times, false));
        expect(drainAll(m, chunk).map((x) => x.id)).toEqual(drainAll(m, 5_000).map((x) => x.id));
      }),
    );
  });

  it('property: picks nothing, and asks to be woken, while an awaited topic is within mergeIdleMs', () => {
    fc.assert(
      fc.property(buffersArb, fc.nat(1_999), (times, waited) => {
        const m = input(toBuffers(times, false), { fullyFetched: () => false, waitingSince: 0, now: waited });
        const r = nextRecords(m);
        const someBufferEmpty = topics.some((t) => times[t].length === 0);
        const anyBuffered = topics.some((t) => times[t].length > 0);
        if (someBufferEmpty && anyBuffered) {
          expect(r.picked).toEqual([]);
          expect(r.wakeInMs).toBe(2_000 - waited);
        }
      }),
    );
  });
});
