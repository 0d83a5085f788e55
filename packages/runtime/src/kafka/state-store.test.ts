import fc from 'fast-check';
import type { Kafka, Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { JSON_STATE_CODEC, type StateCodec } from '../topology.ts';
import { DAY_MS, dueTimeOf } from './due-index.ts';
import { CLOCK_KEY, restoreStores, SHARED_KEY, StateStore } from './state-store.ts';
import { Transaction } from './transaction.ts';

const MIDNIGHT = Date.UTC(2026, 2, 1);
type State = { due: number; n: number };
const codec = JSON_STATE_CODEC as StateCodec<State>;
const dueOf = (key: string, state: State | undefined) => dueTimeOf<State>((_k, s) => s.due, key, state);

const store = (partition = 2, keepEncoded = false) =>
  new StateStore<State>(partition, codec, 'svc-state-changelog', dueOf, keepEncoded);

/** Reads changelog records back into a new store, as a restore would. */
function restored(records: readonly Message[], keepEncoded = false, into = store(2, keepEncoded)): StateStore<State> {
  for (const m of records) into.restoreRecord(m.key as string, (m.value as Buffer | null) ?? null, m.headers);
  into.indexAll();
  return into;
}

/** A codec that counts what it decodes. */
function countingCodec() {
  const counted = {
    decodes: 0,
    encode: (st: State) => codec.encode(st),
    decode: (b: Buffer) => {
      counted.decodes++;
      return codec.decode(b);
    },
  };
  return counted;
}

function dueAt(s: StateStore<State>, at: number): string[] {
  const keys: string[] = [];
  s.due.collectDue(at, keys);
  return keys.sort();
}

describe('StateStore', () => {
  it("writes a transaction's state changes, clock and shared record to its changelog partition", () => {
    const s = store();
    const txn = new Transaction(s, dueOf, 0);
    txn.setState('c1', { due: MIDNIGHT, n: 1 });
    txn.setState('c2', undefined);
    txn.clock = MIDNIGHT;
    txn.shared = { occurredAt: MIDNIGHT };
    const records = s.changelogOf(txn);
    expect(records.map((m) => [m.key, m.value === null ? null : String(m.value), m.partition])).toEqual([
      ['c1', JSON.stringify({ due: MIDNIGHT, n: 1 }), 2],
      ['c2', null, 2],
      [SHARED_KEY, JSON.stringify({ occurredAt: MIDNIGHT }), 2],
      [CLOCK_KEY, JSON.stringify({ at: MIDNIGHT }), 2],
    ]);
  });

  it('writes no clock or shared record when they did not change', () => {
    const s = store();
    s.clock = MIDNIGHT;
    const txn = new Transaction(s, dueOf, 0);
    expect(s.changelogOf(txn)).toEqual([]);
  });

  it('stages the changelog into the transaction under the changelog topic', () => {
    const s = store();
    const txn = new Transaction(s, dueOf, 0);
    txn.setState('c1', { due: MIDNIGHT, n: 1 });
    s.stageChangelog(txn);
    expect([...txn.out.keys()]).toEqual(['svc-state-changelog']);
  });

  it('reads back what it wrote: states, deletions, clock, shared record and due index', () => {
    const s = store();
    const first = new Transaction(s, dueOf, 0);
    first.setState('c1', { due: MIDNIGHT, n: 1 });
    first.setState('c2', { due: MIDNIGHT + DAY_MS, n: 2 });
    first.clock = MIDNIGHT;
    const log = s.changelogOf(first);
    s.apply(first);
    const second = new Transaction(s, dueOf, 0);
    second.setState('c1', undefined);
    second.shared = { occurredAt: MIDNIGHT };
    log.push(...s.changelogOf(second));
    s.apply(second);
    const back = restored(log);
    expect(back.states).toEqual(s.states);
    expect(back.clock).toBe(MIDNIGHT);
    expect(back.shared).toEqual({ occurredAt: MIDNIGHT });
    expect(dueAt(back, MIDNIGHT + DAY_MS)).toEqual(['c2']);
    expect(dueAt(s, MIDNIGHT + DAY_MS)).toEqual(['c2']);
  });

  it('counts only keys’ records as restored, and skips records without a key', () => {
    const s = store();
    expect(s.restoreRecord(undefined, Buffer.from('{}'))).toBe(false);
    expect(s.restoreRecord(CLOCK_KEY, Buffer.from(JSON.stringify({ at: 5 })))).toBe(false);
    expect(s.restoreRecord(CLOCK_KEY, null)).toBe(false);
    expect(s.clock).toBeNull();
    expect(s.restoreRecord('k', Buffer.from(JSON.stringify({ due: 1, n: 1 })))).toBe(true);
    expect(s.size).toBe(1);
  });

  it('uses the topology’s state codec', () => {
    const custom: StateCodec<State> = {
      encode: (st) => Buffer.from(`${st.due}:${st.n}`),
      decode: (b) => {
        const [due, n] = b.toString().split(':').map(Number);
        return { due: due as number, n: n as number };
      },
    };
    const s = new StateStore<State>(0, custom, 'cl', null);
    const txn = new Transaction(s, dueOf, 0);
    txn.setState('k', { due: 7, n: 3 });
    const [record] = s.changelogOf(txn);
    expect(String(record?.value)).toBe('7:3');
    const back = new StateStore<State>(0, custom, 'cl', null);
    back.restoreRecord('k', record?.value as Buffer);
    expect(back.states.get('k')).toEqual({ due: 7, n: 3 });
  });

  it('keeps states encoded when asked: reads decode, and a restore takes due times from the headers', () => {
    const counting = countingCodec();
    const s = new StateStore<State>(2, counting, 'cl', dueOf, true);
    const txn = new Transaction(s, dueOf, 0);
    txn.setState('c1', { due: MIDNIGHT, n: 1 });
    txn.setState('c2', { due: MIDNIGHT + DAY_MS, n: 2 });
    const log = s.changelogOf(txn);
    expect(log.map((m) => m.headers?.['churn.due'])).toEqual([String(MIDNIGHT), String(MIDNIGHT + DAY_MS)]);
    s.apply(txn);
    // Applying takes the staged bytes: nothing decoded, and each read decodes afresh.
    expect(counting.decodes).toBe(0);
    expect(s.states.get('c2')).toEqual({ due: MIDNIGHT + DAY_MS, n: 2 });
    expect(s.states.get('c2')).not.toBe(s.states.get('c2'));
    counting.decodes = 0;
    const back = restored(log, true, new StateStore<State>(2, counting, 'cl', dueOf, true));
    expect(counting.decodes).toBe(0);
    expect(dueAt(back, MIDNIGHT)).toEqual(['c1']);
    expect(new Map(back.states)).toEqual(new Map(s.states));
  });

  it('indexes a restored encoded state without a due header from the state itself', () => {
    const back = store(2, true);
    back.restoreRecord('old', codec.encode({ due: MIDNIGHT, n: 1 }));
    back.indexAll();
    expect(dueAt(back, MIDNIGHT)).toEqual(['old']);
  });

  it.each([false, true])(
    'property: replaying the changelog of any sequence of transactions gives the store they left (encoded: %s)',
    (keepEncoded) => {
      const change = fc.tuple(
        fc.constantFrom('a', 'b', 'c', 'd'),
        fc.option(fc.record({ due: fc.integer({ min: -3, max: 3 }), n: fc.nat(9) }), { nil: undefined }),
      );
      const txnArb = fc.record({
        changes: fc.array(change, { maxLength: 5 }),
        days: fc.option(fc.nat(3), { nil: undefined }),
      });
      fc.assert(
        fc.property(fc.array(txnArb, { maxLength: 8 }), (txns) => {
          const s = store(2, keepEncoded);
          const log: Message[] = [];
          for (const t of txns) {
            const txn = new Transaction(s, dueOf, 0);
            for (const [key, st] of t.changes)
              txn.setState(key, st === undefined ? undefined : { due: MIDNIGHT + st.due * DAY_MS, n: st.n });
            if (t.days !== undefined) txn.clock = (txn.clock ?? MIDNIGHT) + t.days * DAY_MS;
            log.push(...s.changelogOf(txn));
            s.apply(txn);
          }
          const back = restored(log, keepEncoded);
          expect(new Map(back.states)).toEqual(new Map(s.states));
          expect(back.clock).toBe(s.clock);
          for (let d = -3; d <= 3; d++)
            expect(dueAt(back, MIDNIGHT + d * DAY_MS)).toEqual(dueAt(s, MIDNIGHT + d * DAY_MS));
        }),
      );
    },
  );
});

describe('restoreStores', () => {
  it('reads nothing, and starts no consumer, when the changelog partitions are empty', async () => {
    let consumers = 0;
    const kafka = {
      consumer: () => {
        consumers++;
        throw new Error('no consumer expected');
      },
    } as unknown as Pick<Kafka, 'consumer'>;
    const admin = {
      fetchTopicOffsets: async () => [{ partition: 2, high: '5', low: '5', offset: '5' }],
      deleteGroups: async () => [],
    };
    const n = await restoreStores({ kafka, admin: admin as never, changelog: 'cl', groupId: 'g' }, [store(2)]);
    expect(n).toBe(0);
    expect(consumers).toBe(0);
  });
});
