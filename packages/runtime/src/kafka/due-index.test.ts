import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DAY_MS, DueIndex, dueTimeOf, midnightOf } from './due-index.ts';

const MIDNIGHT = Date.UTC(2026, 2, 1);

function due(index: DueIndex, at: number): string[] {
  const keys: string[] = [];
  index.collectDue(at, keys);
  return keys.sort();
}

describe('midnightOf', () => {
  it('is the midnight UTC at or before a time', () => {
    expect(midnightOf(MIDNIGHT)).toBe(MIDNIGHT);
    expect(midnightOf(MIDNIGHT + DAY_MS - 1)).toBe(MIDNIGHT);
    expect(midnightOf(MIDNIGHT - 1)).toBe(MIDNIGHT - DAY_MS);
  });

  it('is a midnight, at most a day before the time', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (time) => {
        const m = midnightOf(time);
        expect(m % DAY_MS === 0).toBe(true);
        expect(m).toBeLessThanOrEqual(time);
        expect(time - m).toBeLessThan(DAY_MS);
      }),
    );
  });
});

describe('DueIndex', () => {
  it('holds a key from the first midnight at or after its due time', () => {
    const index = new DueIndex();
    index.set('a', MIDNIGHT + 1);
    index.set('b', MIDNIGHT);
    expect(due(index, MIDNIGHT)).toEqual(['b']);
    expect(due(index, MIDNIGHT + DAY_MS - 1)).toEqual(['b']);
    expect(due(index, MIDNIGHT + DAY_MS)).toEqual(['a', 'b']);
  });

  it('always holds a key due at -Infinity (or NaN), and never one due at +Infinity', () => {
    const index = new DueIndex();
    index.set('always', Number.NEGATIVE_INFINITY);
    index.set('nan', Number.NaN);
    index.set('never', Number.POSITIVE_INFINITY);
    expect(due(index, Number.NEGATIVE_INFINITY)).toEqual(['always', 'nan']);
    expect(due(index, Number.MAX_VALUE)).toEqual(['always', 'nan']);
  });

  it('moves a key when its due time changes, and drops it when it is never due', () => {
    const index = new DueIndex();
    index.set('a', MIDNIGHT);
    index.set('a', MIDNIGHT + 3 * DAY_MS);
    expect(due(index, MIDNIGHT)).toEqual([]);
    expect(due(index, MIDNIGHT + 3 * DAY_MS)).toEqual(['a']);
    index.set('a', Number.POSITIVE_INFINITY);
    expect(due(index, Number.MAX_VALUE)).toEqual([]);
  });

  it('leaves out the keys it is told to', () => {
    const index = new DueIndex();
    index.set('a', MIDNIGHT);
    index.set('b', MIDNIGHT);
    const keys: string[] = [];
    index.collectDue(MIDNIGHT, keys, new Map([['a', 1]]));
    expect(keys).toEqual(['b']);
  });

  it('gives the keys due at a midnight as a scan of every key would, after any sequence of changes', () => {
    const key = fc.constantFrom('k0', 'k1', 'k2', 'k3', 'k4');
    const dueTime = fc.oneof(
      fc.integer({ min: -5 * DAY_MS, max: 5 * DAY_MS }).map((d) => MIDNIGHT + d),
      fc.constantFrom(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(key, dueTime)), fc.integer({ min: -6, max: 6 }), (changes, day) => {
        const index = new DueIndex();
        const latest = new Map<string, number>();
        for (const [k, d] of changes) {
          index.set(k, d);
          latest.set(k, d);
        }
        const at = MIDNIGHT + day * DAY_MS;
        const expected = [...latest]
          .filter(([, d]) => Number.isNaN(d) || (d !== Number.POSITIVE_INFINITY && d <= at))
          .map(([k]) => k)
          .sort();
        expect(due(index, at)).toEqual(expected);
      }),
    );
  });
});

describe('dueTimeOf', () => {
  it('is never for a key without state, always without dueAt, else what dueAt says', () => {
    expect(dueTimeOf(undefined, 'k', undefined)).toBe(Number.POSITIVE_INFINITY);
    expect(dueTimeOf(undefined, 'k', { n: 1 })).toBe(Number.NEGATIVE_INFINITY);
    expect(dueTimeOf((_k, s: { n: number }) => s.n, 'k', { n: 7 })).toBe(7);
  });
});
