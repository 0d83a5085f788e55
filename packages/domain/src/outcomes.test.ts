import type { ChurnDecision, TaskOutcome } from '@churn/contracts';
import { aChurnDecision, aTaskOutcome } from '@churn/contracts/testing';
import { describe, expect, it } from 'vitest';
import { decideOnCancellation, retentionTaskIdsOf } from './decision.ts';
import { deriveId } from './ids.ts';
import { type OutcomeLedger, trackOutcomes } from './outcomes.ts';
import { aB2bCustomer, aCancellationOf, aContext, DAY, FIXTURE_NOW } from './testing/index.ts';

function decision(n: number, o: Partial<ChurnDecision> = {}): ChurnDecision {
  return aChurnDecision({ causationId: deriveId('cause', String(n)), reason: 'PRICE', offer: 'DOWNGRADE', ...o });
}

function outcome(d: ChurnDecision, kind: TaskOutcome['outcome'], at = FIXTURE_NOW + DAY): TaskOutcome {
  return aTaskOutcome({
    eventId: deriveId(d.causationId, kind),
    taskId: retentionTaskIdsOf(d)[0]!,
    outcome: kind,
    occurredAt: at,
  });
}

function run(events: (ChurnDecision | TaskOutcome)[], from?: OutcomeLedger) {
  let state = from;
  for (const e of events) state = trackOutcomes(e, state, aContext({ now: e.occurredAt })).state;
  return state!;
}

describe('tracking outcomes', () => {
  it('counts RETAINED, PAUSED and DOWNGRADED as saves and LOST as a loss, per reason and offer', () => {
    const ds = [1, 2, 3, 4, 5].map((n) => decision(n));
    const kinds = ['RETAINED', 'PAUSED', 'DOWNGRADED', 'LOST', 'LOST'] as const;
    const ledger = run([...ds, ...ds.map((d, i) => outcome(d, kinds[i]!))]);
    expect(ledger.tallies).toEqual({ 'PRICE/DOWNGRADE': { attempts: 5, saves: 3 } });
    expect(ledger.open).toEqual({});
  });

  it('closes a task with its outcome, so a repeated outcome counts once', () => {
    const d = decision(1);
    const ledger = run([d, outcome(d, 'RETAINED'), outcome(d, 'RETAINED')]);
    expect(ledger.tallies['PRICE/DOWNGRADE']).toEqual({ attempts: 1, saves: 1 });
  });

  it('keeps a task open after NO_CONTACT, and counts the later real outcome', () => {
    const d = decision(1);
    const ledger = run([d, outcome(d, 'NO_CONTACT'), outcome(d, 'LOST', FIXTURE_NOW + 2 * DAY)]);
    expect(ledger.tallies['PRICE/DOWNGRADE']).toEqual({ attempts: 1, saves: 0 });
  });

  it('ignores outcomes of tasks that no win-back decision opened', () => {
    const offboarding = decision(1, { action: 'GRACEFUL_OFFBOARDING', offer: 'NONE' });
    expect(run([offboarding, outcome(offboarding, 'RETAINED')]).tallies).toEqual({});
  });

  it('forgets open tasks after the policy period so the ledger stays bounded', () => {
    const old = decision(1, { occurredAt: FIXTURE_NOW });
    const late = decision(2, { occurredAt: FIXTURE_NOW + 100 * DAY });
    const ledger = run([old, late]);
    expect(Object.keys(ledger.open)).toEqual([retentionTaskIdsOf(late)[0]]);
  });

  it('joins the task ids the decision really emitted', () => {
    const value = aB2bCustomer({ revenue12m: 150_000 });
    const result = decideOnCancellation(
      aCancellationOf(value, { reason: 'LIFE_CHANGE' }),
      { value, decided: [] },
      aContext(),
    );
    const d = result.emit.find((e) => e.topic === 'churn.decisions.v1')!.value as ChurnDecision;
    const task = result.emit.find((e) => e.topic === 'contact-center.tasks.v1')!.value as { taskId: string };
    expect(retentionTaskIdsOf(d)[0]).toBe(task.taskId);
    const ledger = run([d, aTaskOutcome({ taskId: task.taskId, outcome: 'PAUSED', occurredAt: FIXTURE_NOW + DAY })]);
    expect(ledger.tallies['LIFE_CHANGE/PAUSE']).toEqual({ attempts: 1, saves: 1 });
  });
});
