import { describe, expect, it } from 'vitest';
import { DAY_MS, DueIndex } from './due-index.ts';
import { outputMessage, Transaction } from './transaction.ts';

const MIDNIGHT = Date.UTC(2026, 2, 1);
const dueOf = (_key: string, state: number | undefined) => (state === undefined ? Number.POSITIVE_INFINITY : state);

function committed() {
  const due = new DueIndex();
  due.set('a', MIDNIGHT);
  due.set('b', MIDNIGHT + DAY_MS);
  return {
    states: new Map([
      ['a', MIDNIGHT],
      ['b', MIDNIGHT + DAY_MS],
    ]),
    due,
    clock: MIDNIGHT,
    shared: { x: 1 },
  };
}

describe('Transaction', () => {
  it('reads its own changes over the committed state, and leaves the committed state alone', () => {
    const base = committed();
    const txn = new Transaction(base, dueOf, 5);
    txn.setState('a', undefined);
    txn.setState('c', MIDNIGHT);
    expect(txn.stateOf('a')).toBeUndefined();
    expect(txn.stateOf('b')).toBe(MIDNIGHT + DAY_MS);
    expect(txn.stateOf('c')).toBe(MIDNIGHT);
    expect(txn.keys()).toEqual(['a', 'b', 'c']);
    expect(base.states.has('c')).toBe(false);
    expect(txn.openedAt).toBe(5);
    expect(txn.clock).toBe(MIDNIGHT);
    expect(txn.shared).toEqual({ x: 1 });
  });

  it('gives the due keys of the committed index and of its own changes, in key order', () => {
    const txn = new Transaction(committed(), dueOf, 0);
    expect(txn.dueKeys(MIDNIGHT)).toEqual(['a']);
    txn.setState('a', MIDNIGHT + 5 * DAY_MS);
    txn.setState('0', MIDNIGHT);
    expect(txn.dueKeys(MIDNIGHT)).toEqual(['0']);
    expect(txn.dueKeys(MIDNIGHT + DAY_MS)).toEqual(['0', 'b']);
  });

  it('collects records per topic in order, and is empty until it changes something', () => {
    const txn = new Transaction(committed(), dueOf, 0);
    expect(txn.isEmpty()).toBe(true);
    txn.push('t', { key: '1', value: null });
    txn.push('t', { key: '2', value: null });
    expect(txn.out.get('t')?.map((m) => m.key)).toEqual(['1', '2']);
    expect(txn.isEmpty()).toBe(false);
    const moved = new Transaction(committed(), dueOf, 0);
    moved.clock = MIDNIGHT + DAY_MS;
    expect(moved.isEmpty()).toBe(false);
  });
});

describe('outputMessage', () => {
  it('goes by key, or to the partition the record names', () => {
    const value = Buffer.from('v');
    expect(outputMessage({ topic: 't', key: 'k', value: {} }, value)).toEqual({ key: 'k', value });
    expect(outputMessage({ topic: 't', key: 'k', value: {}, partition: 2 }, value)).toEqual({
      key: 'k',
      value,
      partition: 2,
    });
  });
});
