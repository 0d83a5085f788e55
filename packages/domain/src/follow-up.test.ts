import type { ChurnAlert, ContactTask, CustomerValue, TaskOutcome } from '@churn/contracts';
import { validateRecord } from '@churn/contracts';
import { aTaskOutcome } from '@churn/contracts/testing';
import { describe, expect, it } from 'vitest';
import { type FollowUpEvent, type FollowUpState, graceOf, scheduleFollowUps } from './follow-up.ts';
import { deriveId } from './ids.ts';
import type { Emitted, Tick } from './processor.ts';
import { aB2bCustomer, aB2cCustomer, aContext, DAY, defaultPolicy, FIXTURE_NOW } from './testing/index.ts';

const T0 = FIXTURE_NOW;
const tick = (at: number): Tick => ({ type: 'Tick', at });

function run(events: readonly FollowUpEvent[], from?: FollowUpState) {
  let state = from;
  const emitted: Emitted[] = [];
  for (const e of events) {
    const now = 'type' in e ? e.at : 'revenue12m' in e ? e.asOf : e.occurredAt;
    const result = scheduleFollowUps(e, state, aContext({ now }));
    state = result.state;
    emitted.push(...result.emit);
  }
  const tasks = emitted.filter((e) => e.topic === 'contact-center.tasks.v1').map((e) => e.value as ContactTask);
  const alerts = emitted.filter((e) => e.topic === 'churn.alerts.v1').map((e) => e.value as ChurnAlert);
  return { state: state!, emitted, tasks, alerts };
}

/** A customer whose last contact (sign-up) was exactly at T0. */
function customer(value: CustomerValue): CustomerValue {
  return { ...value, signedUpAt: T0, asOf: T0 };
}

function outcome(taskId: string, at: number, kind: TaskOutcome['outcome'] = 'COMPLETED'): TaskOutcome {
  return aTaskOutcome({ eventId: deriveId('outcome', `${taskId}:${at}`), taskId, occurredAt: at, outcome: kind });
}

const addMonths = (months: number) => {
  const d = new Date(T0);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
};

describe('running the follow-up program', () => {
  it.each([
    ['A-GROW', customer(aB2bCustomer({ revenue12m: 600_000, track: 'GROW' })), T0 + 7 * DAY, 'owner:am-042'],
    ['A-RETAIN', customer(aB2bCustomer({ revenue12m: 600_000 })), T0 + 7 * DAY, 'owner:am-042'],
    ['B-GROW', customer(aB2bCustomer({ revenue12m: 150_000, track: 'GROW' })), addMonths(3), 'owner:am-042'],
    ['B-RETAIN', customer(aB2bCustomer({ revenue12m: 150_000 })), addMonths(6), 'owner:am-042'],
    [
      'C-GROW',
      customer(aB2bCustomer({ revenue12m: 30_000, track: 'GROW', accountManager: 'is-3' })),
      addMonths(3),
      'owner:is-3',
    ],
    ['C-RETAIN', customer(aB2bCustomer({ revenue12m: 30_000, accountManager: null })), addMonths(6), 'inside-sales'],
    [
      'D-GROW',
      customer(aB2bCustomer({ revenue12m: 5_000, track: 'GROW', accountManager: 'is-3' })),
      addMonths(3),
      'owner:is-3',
    ],
    ['D-RETAIN', customer(aB2cCustomer({ revenue12m: 500 })), addMonths(12), 'automated'],
  ])('makes a %s follow-up due after its cadence, in the owner queue', (_program, value, due, queue) => {
    expect(run([value, tick(due - 1)]).tasks).toEqual([]);
    const { tasks } = run([value, tick(due)]);
    expect(tasks).toMatchObject([{ kind: 'FOLLOW_UP', queue }]);
  });

  it.each([
    ['weekly', 7 * DAY, 2 * DAY],
    ['every 3 months', 91 * DAY, 0.2 * 91 * DAY],
    ['every 6 months', 182 * DAY, 0.2 * 182 * DAY],
  ])('gives a %s follow-up a grace period of 20%% of the cadence, at least 2 days', (_n, cadence, grace) => {
    expect(graceOf(defaultPolicy, cadence)).toBe(grace);
  });

  it('alerts the account manager when a follow-up has no outcome within the grace period', () => {
    const value = customer(aB2bCustomer({ revenue12m: 600_000, accountManager: 'am-5' }));
    const due = T0 + 7 * DAY;
    expect(run([value, tick(due), tick(due + 2 * DAY - 1)]).alerts).toEqual([]);
    const { alerts } = run([value, tick(due), tick(due + 2 * DAY)]);
    expect(alerts).toMatchObject([{ kind: 'PROGRAM_NOT_FOLLOWED', owner: 'am-5', customerId: value.customerId }]);
  });

  it('gives a follow-up noticed late (first tick long after it was due) the whole grace period', () => {
    const value = customer(aB2bCustomer({ revenue12m: 600_000 }));
    const late = T0 + 60 * DAY;
    const first = run([value, tick(late)]);
    expect(first.tasks).toHaveLength(1);
    expect(first.alerts).toEqual([]);
    expect(first.tasks[0]?.dueAt).toBe(late + 2 * DAY);
    expect(run([tick(late + 2 * DAY)], first.state).alerts.map((a) => a.kind)).toEqual(['PROGRAM_NOT_FOLLOWED']);
  });

  it('alerts inside sales for a C-RETAIN customer not followed', () => {
    const value = customer(aB2bCustomer({ revenue12m: 30_000, accountManager: null }));
    const { alerts } = run([value, tick(addMonths(6)), tick(addMonths(8))]);
    expect(alerts).toMatchObject([{ kind: 'PROGRAM_NOT_FOLLOWED', owner: 'inside-sales' }]);
  });

  it('never alerts for the automated D-RETAIN program', () => {
    const value = customer(aB2cCustomer({ revenue12m: 500 }));
    const { tasks, alerts } = run([value, tick(addMonths(12)), tick(addMonths(20))]);
    expect(tasks).toHaveLength(1);
    expect(alerts).toEqual([]);
  });

  it('alerts once per missed follow-up, however many ticks pass', () => {
    const value = customer(aB2bCustomer({ revenue12m: 600_000 }));
    const { alerts } = run([value, tick(T0 + 7 * DAY), tick(T0 + 10 * DAY), tick(T0 + 11 * DAY)]);
    expect(alerts).toHaveLength(1);
  });

  it('counts the next follow-up from the completed one, not from the missed due date', () => {
    const value = customer(aB2bCustomer({ revenue12m: 600_000 }));
    const first = run([value, tick(T0 + 7 * DAY)]);
    const taskId = first.tasks[0]!.taskId;
    const done = run([outcome(taskId, T0 + 8 * DAY), tick(T0 + 15 * DAY - 1)], first.state);
    expect(done.tasks).toEqual([]);
    expect(done.alerts).toEqual([]);
    expect(run([tick(T0 + 15 * DAY)], done.state).tasks).toHaveLength(1);
  });

  it('does not count a NO_CONTACT outcome as a follow-up done', () => {
    const value = customer(aB2bCustomer({ revenue12m: 600_000 }));
    const first = run([value, tick(T0 + 7 * DAY)]);
    const { alerts } = run(
      [outcome(first.tasks[0]!.taskId, T0 + 8 * DAY, 'NO_CONTACT'), tick(T0 + 9 * DAY)],
      first.state,
    );
    expect(alerts.map((a) => a.kind)).toEqual(['PROGRAM_NOT_FOLLOWED']);
  });

  it('gives the same outputs when the same events and ticks are replayed', () => {
    const value = customer(aB2bCustomer({ revenue12m: 150_000, lastNps: 3 }));
    const events = [value, tick(T0 + 30 * DAY), tick(addMonths(6)), tick(addMonths(8))];
    expect(JSON.stringify(run(events).emitted)).toBe(JSON.stringify(run(events).emitted));
  });

  it('changes nothing when the same tick is processed twice', () => {
    const value = customer(aB2bCustomer({ revenue12m: 600_000 }));
    const first = run([value, tick(T0 + 9 * DAY)]);
    const again = scheduleFollowUps(tick(T0 + 9 * DAY), first.state, aContext({ now: T0 + 9 * DAY }));
    expect(again.emit).toEqual([]);
    expect(again.state).toEqual(first.state);
  });
});

describe('at-risk dialogues', () => {
  const healthy = customer(aB2bCustomer({ revenue12m: 150_000, executiveSponsor: 'exec-3' }));
  const at = (value: CustomerValue, asOf: number, o: Partial<CustomerValue>) => ({ ...value, ...o, asOf });

  it.each([
    ['turns detractor', { lastNps: 4 }],
    ['has an overdue invoice', { overdueInvoices: 1 }],
    ['is repeatedly silent', { unansweredSurveys: 2 }],
  ])('opens a direct dialogue, due within 28 days, when an account-managed customer %s', (_n, change) => {
    const { tasks } = run([healthy, at(healthy, T0 + DAY, change)]);
    expect(tasks).toMatchObject([{ kind: 'FOLLOW_UP', queue: 'owner:am-042', dueAt: T0 + DAY + 28 * DAY }]);
  });

  it('raises DIALOGUE_OVERDUE to the executive sponsor when the dialogue has not happened in 28 days', () => {
    const risky = at(healthy, T0 + DAY, { lastNps: 2 });
    expect(run([healthy, risky, tick(T0 + 29 * DAY - 1)]).alerts.map((a) => a.kind)).not.toContain('DIALOGUE_OVERDUE');
    const { alerts } = run([healthy, risky, tick(T0 + 29 * DAY)]);
    expect(alerts).toContainEqual(expect.objectContaining({ kind: 'DIALOGUE_OVERDUE', owner: 'exec-3' }));
  });

  it('raises no DIALOGUE_OVERDUE when the dialogue happened in time', () => {
    const opened = run([healthy, at(healthy, T0 + DAY, { lastNps: 2 })]);
    const { alerts } = run([outcome(opened.tasks[0]!.taskId, T0 + 10 * DAY), tick(T0 + 40 * DAY)], opened.state);
    expect(alerts.map((a) => a.kind)).not.toContain('DIALOGUE_OVERDUE');
  });

  it('opens no dialogue for a consumer or a tier C customer', () => {
    const consumer = customer(aB2cCustomer({ revenue12m: 12_000 }));
    const tierC = customer(aB2bCustomer({ revenue12m: 30_000 }));
    expect(run([consumer, at(consumer, T0 + DAY, { lastNps: 1 })]).tasks).toEqual([]);
    expect(run([tierC, at(tierC, T0 + DAY, { lastNps: 1 })]).tasks).toEqual([]);
  });

  it('emits records that satisfy their contracts', () => {
    const { emitted } = run([healthy, at(healthy, T0 + DAY, { lastNps: 2 }), tick(addMonths(6)), tick(addMonths(9))]);
    expect(emitted.length).toBeGreaterThanOrEqual(4);
    for (const e of emitted) {
      const record = e.topic === 'contact-center.tasks.v1' ? 'ContactTask' : 'ChurnAlert';
      expect(validateRecord(record, e.value)).toMatchObject({ ok: true });
    }
  });
});
