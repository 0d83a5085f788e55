import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Topology } from '../topology.ts';
import { ClockStep } from './clock-step.ts';
import { DAY_MS, DueIndex, dueTimeOf } from './due-index.ts';
import { Transaction } from './transaction.ts';

const MIDNIGHT = Date.UTC(2026, 2, 1);

/** State: when the key's follow-up is due; tick emits a follow-up and clears it. */
type State = { due: number };

const serde = { encode: async (_topic: string, value: unknown) => Buffer.from(JSON.stringify(value)) };

function topology(calls: string[]): Topology<State> {
  return {
    name: 't',
    inputs: ['in'],
    outputs: ['out', 'marks'],
    process: () => ({ state: undefined, emit: [] }),
    tick: (key, state, at) => {
      calls.push(`tick ${key} ${at}`);
      return state.due <= at
        ? { state: { due: Number.POSITIVE_INFINITY }, emit: [{ topic: 'out', key, value: { at } }] }
        : { state, emit: [] };
    },
    dueAt: (_key, state) => state.due,
    onClock: (partition, partitions, at) => {
      calls.push(`clock ${partition}/${partitions} ${at}`);
      return [{ topic: 'marks', key: String(partition), value: { at }, partition }];
    },
  };
}

function committed(states: Record<string, State>, clock: number | null) {
  const t = topology([]);
  const due = new DueIndex();
  for (const [k, s] of Object.entries(states)) due.set(k, dueTimeOf(t.dueAt, k, s));
  return { states: new Map(Object.entries(states)), due, clock, shared: undefined };
}

const dueOf = (key: string, state: State | undefined) => dueTimeOf<State>((_k, s) => s.due, key, state);

describe('ClockStep', () => {
  it('starts the clock at the first record’s midnight, with clock outputs and no ticks', async () => {
    const calls: string[] = [];
    const step = new ClockStep(topology(calls), serde);
    step.inputPartitions = 3;
    const txn = new Transaction(committed({ a: { due: MIDNIGHT } }, null), dueOf, 0);
    await step.passMidnights(txn, MIDNIGHT + 5, 1);
    expect(txn.clock).toBe(MIDNIGHT);
    expect(calls).toEqual([`clock 1/3 ${MIDNIGHT}`]);
    expect(txn.out.get('marks')?.[0]).toMatchObject({ key: '1', partition: 1 });
  });

  it('runs the clock step at every midnight a record passes: the due keys, then the clock outputs', async () => {
    const calls: string[] = [];
    const step = new ClockStep(topology(calls), serde);
    const txn = new Transaction(
      committed({ a: { due: MIDNIGHT + DAY_MS }, b: { due: MIDNIGHT + 5 * DAY_MS } }, MIDNIGHT),
      dueOf,
      0,
    );
    await step.passMidnights(txn, MIDNIGHT + 2 * DAY_MS + 1, 0);
    expect(txn.clock).toBe(MIDNIGHT + 2 * DAY_MS);
    expect(calls).toEqual([
      `tick a ${MIDNIGHT + DAY_MS}`,
      `clock 0/1 ${MIDNIGHT + DAY_MS}`,
      `clock 0/1 ${MIDNIGHT + 2 * DAY_MS}`,
    ]);
    expect(txn.changes.get('a')).toEqual({ due: Number.POSITIVE_INFINITY });
    expect(txn.outputs.map((r) => r.topic)).toEqual(['out', 'marks', 'marks']);
  });

  it('ignores an undecodable record’s time', async () => {
    const calls: string[] = [];
    const txn = new Transaction(committed({}, MIDNIGHT), dueOf, 0);
    await new ClockStep(topology(calls), serde).passMidnights(txn, Number.NEGATIVE_INFINITY, 0);
    expect(calls).toEqual([]);
    expect(txn.clock).toBe(MIDNIGHT);
  });

  it('moves a clock without records on from the day before', async () => {
    const calls: string[] = [];
    const txn = new Transaction(committed({}, null), dueOf, 0);
    await new ClockStep(topology(calls), serde).moveTo(txn, MIDNIGHT + 7, 2);
    expect(txn.clock).toBe(MIDNIGHT);
    expect(calls).toEqual([`clock 2/1 ${MIDNIGHT}`]);
  });

  it('ticks every key once with tickAll, due or not', async () => {
    const calls: string[] = [];
    const txn = new Transaction(committed({ b: { due: 1e15 }, a: { due: 1e15 } }, MIDNIGHT), dueOf, 0);
    await new ClockStep(topology(calls), serde).tickInto(txn, MIDNIGHT, true);
    expect(calls).toEqual([`tick b ${MIDNIGHT}`, `tick a ${MIDNIGHT}`]);
    expect(txn.changes.size).toBe(0);
  });

  it('is off for a topology without tick or onClock', () => {
    const plain: Topology<State> = { ...topology([]), tick: undefined, onClock: undefined };
    expect(new ClockStep(plain, serde).enabled).toBe(false);
    expect(new ClockStep(topology([]), serde).enabled).toBe(true);
  });

  it('property: moving the clock day by day emits what one move to the last day emits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 10 }),
        async (dues, days) => {
          const states = Object.fromEntries(dues.map((d, i) => [`k${i}`, { due: MIDNIGHT + d * DAY_MS }]));
          const once: string[] = [];
          const oneMove = new Transaction(committed(states, MIDNIGHT), dueOf, 0);
          await new ClockStep(topology(once), serde).moveTo(oneMove, MIDNIGHT + days * DAY_MS, 0);
          const stepwise: string[] = [];
          const daily = new Transaction(committed(states, MIDNIGHT), dueOf, 0);
          const step = new ClockStep(topology(stepwise), serde);
          for (let d = 1; d <= days; d++) await step.moveTo(daily, MIDNIGHT + d * DAY_MS, 0);
          expect(stepwise).toEqual(once);
          expect(daily.clock).toBe(oneMove.clock);
          // Each key is ticked with output once, on the first midnight at or after its due time.
          const fired = daily.outputs.filter((r) => r.topic === 'out').map((r) => r.key);
          expect(fired.sort()).toEqual(
            dues.flatMap((d, i) => (d >= 1 && d <= days ? [`k${i}`] : d < 1 ? [`k${i}`] : [])).sort(),
          );
        },
      ),
    );
  });
});
