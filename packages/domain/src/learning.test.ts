import type { LearningEvent, LearningSnapshot } from '@churn/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveId } from './ids.ts';
import {
  cancellationEvents,
  cohortChange,
  cohortOf,
  type LearningState,
  learnAcrossPartitions,
  learningMark,
  NEW_CUSTOMER_LEARNING,
  npsBandOf,
  outcomeEvents,
  tenureBandOf,
  tenureBands,
} from './learning.ts';
import { aB2bCustomer, aB2cCustomer, DAY, FIXTURE_NOW, learningPolicy as policy } from './testing/index.ts';

const MONTH = 30.4375 * DAY;
const D0 = Math.floor(FIXTURE_NOW / DAY) * DAY;

/** Runs the learning stage over events in the given order; returns every snapshot it published, by midnight. */
function learn(events: readonly LearningEvent[]): { state: LearningState | undefined; snapshots: LearningSnapshot[] } {
  let state: LearningState | undefined;
  const snapshots: LearningSnapshot[] = [];
  for (const e of events) {
    const r = learnAcrossPartitions(e, state);
    state = r.state;
    for (const out of r.emit)
      if (out.topic === 'churn-learning.snapshots') snapshots.push(out.value as LearningSnapshot);
  }
  return { state, snapshots };
}

const mark = (partition: number, partitions: number, at: number) =>
  learningMark(partition, partitions, at).value as LearningEvent;

function anEvent(o: Partial<LearningEvent> & Pick<LearningEvent, 'kind' | 'occurredAt'>): LearningEvent {
  return {
    eventId: `e-${o.kind}-${o.occurredAt}-${o.cohort ?? o.toCohort ?? ''}-${Math.random()}`,
    partition: 0,
    partitions: 1,
    fromCohort: null,
    toCohort: null,
    cohort: null,
    reason: null,
    offer: null,
    saved: null,
    arm: null,
    ...o,
  };
}

describe('cohorts', () => {
  it('bands NPS by the policy: promoters, passives, detractors, silent, never asked', () => {
    const { detractorMax, passiveMax } = policy.surveys.nps;
    const repeated = policy.value.silence.repeatedAfter;
    expect(npsBandOf(policy, { lastNps: detractorMax, unansweredSurveys: 0 })).toBe('detractor');
    expect(npsBandOf(policy, { lastNps: passiveMax, unansweredSurveys: 0 })).toBe('passive');
    expect(npsBandOf(policy, { lastNps: passiveMax + 1, unansweredSurveys: 0 })).toBe('promoter');
    expect(npsBandOf(policy, { lastNps: null, unansweredSurveys: 0 })).toBe('never-asked');
    expect(npsBandOf(policy, { lastNps: 10, unansweredSurveys: repeated })).toBe('silent');
  });

  it('bands tenure by the policy and names the cohort by segment, NPS band and tenure band', () => {
    const bands = tenureBands(policy);
    const [first] = policy.learning.tenureBandsMonths;
    expect(tenureBandOf(policy, 0)).toBe(bands[0]);
    expect(tenureBandOf(policy, Math.ceil(((first as number) * MONTH) / DAY) + 1)).toBe(bands[1]);
    expect(tenureBandOf(policy, 100_000)).toBe(bands.at(-1));
    const value = aB2cCustomer({ tenureDays: 10, lastNps: null });
    expect(cohortOf(policy, value)).toBe(`B2C:never-asked:${bands[0]}`);
  });
});

describe('what a customer tells the learning stage', () => {
  const value = aB2bCustomer({ tenureDays: 1_500, lastNps: 9 });
  const cohort = cohortOf(policy, value);

  it('joins the population at risk in its cohort, and moves only when the cohort changes', () => {
    const joined = cohortChange(policy, NEW_CUSTOMER_LEARNING, value, 'v1', D0);
    expect(joined.emit.map((e) => e.value)).toMatchObject([{ kind: 'COHORT', fromCohort: null, toCohort: cohort }]);
    expect(cohortChange(policy, joined.learning, value, 'v2', D0 + DAY).emit).toHaveLength(0);
    const detractor = { ...value, lastNps: 2 };
    const moved = cohortChange(policy, joined.learning, detractor, 'v3', D0 + 2 * DAY);
    expect(moved.emit.map((e) => e.value)).toMatchObject([
      { kind: 'COHORT', fromCohort: cohort, toCohort: cohortOf(policy, detractor) },
    ]);
  });

  it('counts a cancellation for its cohort, leaves the population, and waits for its retention outcome', () => {
    const joined = cohortChange(policy, NEW_CUSTOMER_LEARNING, value, 'v1', D0).learning;
    const retention = { taskId: 'task-1', reason: 'PRICE' as const, offer: 'DOWNGRADE' as const, arm: null };
    const left = cancellationEvents(policy, joined, value, deriveId('c1', 'decision'), D0 + DAY, retention);
    expect(left.emit.map((e) => e.value)).toMatchObject([
      { kind: 'CANCELLATION', cohort },
      { kind: 'COHORT', fromCohort: cohort, toCohort: null },
    ]);
    // No contact yet: the task stays open and nothing is counted.
    const noContact = outcomeEvents(
      policy,
      left.learning,
      value,
      { eventId: 'o0', taskId: 'task-1', outcome: 'NO_CONTACT' },
      D0 + 2 * DAY,
    );
    expect(noContact.emit).toHaveLength(0);
    expect(noContact.learning.open.map((t) => t.taskId)).toEqual(['task-1']);
    // Saved: counted as a save for the reason, offer and cohort, and at risk again.
    const [savedOutcome] = [...policy.tables.savedOutcomes];
    const saved = outcomeEvents(
      policy,
      left.learning,
      value,
      { eventId: 'o1', taskId: 'task-1', outcome: savedOutcome as 'RETAINED' },
      D0 + 3 * DAY,
    );
    expect(saved.emit.map((e) => e.value)).toMatchObject([
      { kind: 'OUTCOME', reason: 'PRICE', offer: 'DOWNGRADE', cohort, saved: true },
      { kind: 'COHORT', fromCohort: null, toCohort: cohort },
    ]);
    expect(saved.learning).toMatchObject({ atRisk: cohort, left: false, open: [] });
    // Lost: counted as not saved, and gone for good.
    const [lostOutcome] = [...policy.tables.lostOutcomes];
    const lost = outcomeEvents(
      policy,
      left.learning,
      value,
      { eventId: 'o2', taskId: 'task-1', outcome: lostOutcome as 'LOST' },
      D0 + 3 * DAY,
    );
    expect(lost.emit.map((e) => e.value)).toMatchObject([{ kind: 'OUTCOME', saved: false }]);
    expect(cohortChange(policy, lost.learning, { ...value, lastNps: 1 }, 'v9', D0 + 4 * DAY).emit).toHaveLength(0);
  });

  it('ignores outcomes of tasks it does not know', () => {
    const r = outcomeEvents(
      policy,
      NEW_CUSTOMER_LEARNING,
      value,
      { eventId: 'o', taskId: 'nope', outcome: 'RETAINED' },
      D0,
    );
    expect(r.emit).toHaveLength(0);
  });
});

describe('the learning stage across partitions', () => {
  it('counts customer-months at risk per cohort from the population over time', () => {
    const { snapshots } = learn([
      anEvent({ kind: 'COHORT', occurredAt: D0, toCohort: 'a' }),
      anEvent({ kind: 'COHORT', occurredAt: D0, toCohort: 'a' }),
      mark(0, 1, D0),
      mark(0, 1, D0 + 10 * DAY),
    ]);
    const last = snapshots.at(-1) as LearningSnapshot;
    expect(last.occurredAt).toBe(D0 + 10 * DAY);
    // Two customers for ten days.
    expect(last.exposures).toHaveLength(1);
    expect(last.exposures[0]).toMatchObject({ cohort: 'a', cancellations: 0 });
    expect(last.exposures[0]?.exposureMonths).toBeCloseTo((2 * 10 * DAY) / MONTH, 9);
  });

  it('publishes one snapshot per midnight and per partition, each of everything before its midnight only', () => {
    const events = [
      mark(0, 2, D0),
      mark(1, 2, D0),
      anEvent({ kind: 'CANCELLATION', occurredAt: D0 + 5, cohort: 'a' }),
      anEvent({
        kind: 'OUTCOME',
        occurredAt: D0 + DAY + 5,
        cohort: 'a',
        reason: 'PRICE',
        offer: 'DOWNGRADE',
        saved: true,
      }),
      mark(0, 2, D0 + 2 * DAY),
      mark(1, 2, D0 + 2 * DAY),
    ];
    const { snapshots } = learn(events);
    expect(snapshots.map((s) => [s.occurredAt, s.partition])).toEqual([
      [D0, 0],
      [D0, 1],
      [D0 + DAY, 0],
      [D0 + DAY, 1],
      [D0 + 2 * DAY, 0],
      [D0 + 2 * DAY, 1],
    ]);
    const at = (t: number) => snapshots.find((s) => s.occurredAt === t) as LearningSnapshot;
    expect(at(D0).exposures).toEqual([]);
    expect(at(D0 + DAY).exposures.map((e) => e.cancellations)).toEqual([1]);
    expect(at(D0 + DAY).saves).toEqual([]);
    expect(at(D0 + 2 * DAY).saves).toEqual([{ reason: 'PRICE', offer: 'DOWNGRADE', cohort: 'a', saves: 1, tries: 1 }]);
  });

  it('waits for every partition: nothing is published until the slowest has passed the midnight', () => {
    const { snapshots } = learn([mark(0, 3, D0), mark(1, 3, D0 + 5 * DAY)]);
    expect(snapshots).toHaveLength(0);
    const { snapshots: after } = learn([mark(0, 3, D0), mark(1, 3, D0 + 5 * DAY), mark(2, 3, D0 + DAY)]);
    // The watermark is the slowest partition's midnight.
    expect(after.map((s) => s.occurredAt)).toEqual([D0, D0, D0]);
    const { snapshots: later } = learn([
      mark(0, 3, D0),
      mark(1, 3, D0 + 5 * DAY),
      mark(2, 3, D0 + DAY),
      mark(0, 3, D0 + 2 * DAY),
    ]);
    expect(later.map((s) => s.occurredAt)).toEqual([D0, D0, D0, D0 + DAY, D0 + DAY, D0 + DAY]);
  });

  it('gives the same snapshots however the partitions interleave', () => {
    // Three partitions, each sending its events in its own time order with a mark at each midnight.
    const partitionEvents = (p: number, n: number): LearningEvent[] => {
      const out: LearningEvent[] = [];
      for (let day = 0; day < 4; day++) {
        out.push(mark(p, 3, D0 + day * DAY));
        for (let k = 0; k < n; k++) {
          const at = D0 + day * DAY + (k + 1) * 1000 * (p + 1);
          out.push(
            {
              ...anEvent({ kind: 'COHORT', occurredAt: at, toCohort: `c${(p + k) % 2}` }),
              eventId: `j-${p}-${day}-${k}`,
            },
            {
              ...anEvent({
                kind: 'OUTCOME',
                occurredAt: at + 1,
                cohort: `c${k % 2}`,
                reason: 'PRICE',
                offer: 'DOWNGRADE',
                saved: (k + p) % 3 === 0,
              }),
              eventId: `o-${p}-${day}-${k}`,
            },
          );
        }
      }
      out.push(mark(p, 3, D0 + 4 * DAY));
      return out;
    };
    const streams = [partitionEvents(0, 2), partitionEvents(1, 3), partitionEvents(2, 1)];
    const inOrder = learn(streams.flat()).snapshots;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 60, maxLength: 60 }), (choices) => {
        const cursors = [0, 0, 0];
        const merged: LearningEvent[] = [];
        for (const c of choices) {
          for (let k = 0; k < 3; k++) {
            const p = (c + k) % 3;
            const next = streams[p]?.[cursors[p] as number];
            if (next !== undefined) {
              merged.push(next);
              cursors[p] = (cursors[p] as number) + 1;
              break;
            }
          }
        }
        for (let p = 0; p < 3; p++) merged.push(...(streams[p] as LearningEvent[]).slice(cursors[p]));
        const { snapshots } = learn(merged);
        expect(snapshots).toEqual(inOrder);
      }),
      { numRuns: 100 },
    );
  });
});
