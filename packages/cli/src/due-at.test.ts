/**
 * Runners tick only the keys whose `dueAt` has come (Topology.dueAt). That is only
 * sound if a tick before a key's due time never does anything: this test runs each
 * topology over a generated history with a clock step at every midnight over every key,
 * as runners did before the index, and checks that each tick before the key's due time
 * emits nothing and leaves the state as it was.
 */
import { defaultPolicy } from '@churn/domain/testing';
import type { Topology } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from './generate.ts';
import { allTopologies, SHAPES } from './topologies.ts';

const DAY = 86_400_000;

/** Plain data of a state, so that a copy with the same content compares equal. */
const plain = (state: unknown) => JSON.parse(JSON.stringify(state ?? null)) as unknown;

describe('Topology.dueAt', () => {
  const events = generatePopulation({ customers: 50, months: 14, seed: 7 });
  // Both deployment shapes: the engine, and the topologies of one service per processor.
  const ticking = SHAPES.flatMap((shape) => allTopologies(defaultPolicy, shape)).filter((t) => t.tick);

  it('is given by every topology with a clock step', () => {
    expect(ticking.map((t) => t.name).sort()).toEqual([
      'churn-customer-value',
      'churn-decisions',
      'churn-engine',
      'churn-follow-ups',
      'churn-signals',
    ]);
    for (const t of ticking) expect(t.dueAt, t.name).toBeTypeOf('function');
  });

  for (const topology of ticking as Topology<unknown>[]) {
    it(`${topology.name}: a tick before the key's due time does nothing`, () => {
      const tick = topology.tick as NonNullable<Topology<unknown>['tick']>;
      const dueAt = topology.dueAt as NonNullable<Topology<unknown>['dueAt']>;
      const store = new Map<string, unknown>();
      let clock: number | null = null;
      let skipped = 0;
      let due = 0;
      let dueAndActed = 0;
      const wrong: string[] = [];
      const passMidnights = (until: number) => {
        const midnight = Math.floor(until / DAY) * DAY;
        if (clock === null) clock = midnight;
        while (clock < midnight) {
          clock += DAY;
          for (const key of [...store.keys()].sort()) {
            const state = store.get(key);
            const dueTime = dueAt(key, state);
            const result = tick(key, state, clock);
            if (dueTime > clock) {
              skipped++;
              const acted =
                result.emit.length > 0 ||
                (result.state !== state && JSON.stringify(plain(result.state)) !== JSON.stringify(plain(state)));
              if (acted && wrong.length < 5) wrong.push(`${key} at ${new Date(clock).toISOString()}`);
            } else {
              due++;
              if (result.emit.length > 0 || result.state !== state) dueAndActed++;
            }
            if (result.state === undefined) store.delete(key);
            else store.set(key, result.state);
          }
        }
      };
      for (const e of events) {
        if (!topology.inputs.includes(e.topic)) continue;
        const at = (e.value as { occurredAt: number }).occurredAt;
        passMidnights(at);
        try {
          const result = topology.process({ topic: e.topic, key: e.key, value: e.value }, store.get(e.key), at);
          if (result.state === undefined) store.delete(e.key);
          else store.set(e.key, result.state);
        } catch {
          // A record the service dead-letters leaves the state as it was.
        }
      }
      expect(wrong, 'ticks before the due time that did something').toEqual([]);
      // The index must save most ticks, and the due ones must include ticks that act.
      expect(skipped).toBeGreaterThan(10 * due);
      expect(dueAndActed).toBeGreaterThan(0);
    });
  }
});
