import type { ChurnAlert, ContactTask, CustomerValue, SurveyResult } from '@churn/contracts';
import { validateRecord } from '@churn/contracts';
import { aSurveyResult } from '@churn/contracts/testing';
import { describe, expect, it } from 'vitest';
import { deriveId } from './ids.ts';
import type { Emitted } from './processor.ts';
import { npsCategoryOf, routeSurvey } from './survey-routing.ts';
import { aB2bCustomer, aB2cCustomer, aContext, defaultPolicy, FIXTURE_NOW, HOUR } from './testing/index.ts';

function route(value: CustomerValue | null, survey: Partial<SurveyResult>) {
  const event = aSurveyResult({ eventId: deriveId('survey', JSON.stringify(survey)), ...survey });
  const result = routeSurvey(event, { value, routed: [] }, aContext());
  const tasks = result.emit.filter((e) => e.topic === 'contact-center.tasks.v1').map((e) => e.value as ContactTask);
  const alerts = result.emit.filter((e) => e.topic === 'churn.alerts.v1').map((e) => e.value as ChurnAlert);
  return { ...result, tasks, alerts, event };
}

const nps = (score: number) => ({ kind: 'NPS' as const, status: 'ANSWERED' as const, score });
const tierA = aB2bCustomer({ revenue12m: 600_000 });
const tierB = aB2bCustomer({ revenue12m: 150_000 });
const tierCGrow = aB2bCustomer({ revenue12m: 30_000, track: 'GROW' });
const tierCRetain = aB2bCustomer({ revenue12m: 30_000 });
const tierDRetain = aB2cCustomer({ revenue12m: 500 });

describe('routing surveys', () => {
  it.each([
    [0, 'DETRACTOR'],
    [6, 'DETRACTOR'],
    [7, 'PASSIVE'],
    [8, 'PASSIVE'],
    [9, 'PROMOTER'],
    [10, 'PROMOTER'],
  ] as const)('reads an NPS of %d as a %s', (score, category) => {
    expect(npsCategoryOf(score, defaultPolicy.surveys.nps)).toBe(category);
  });

  it.each([
    ['a tier A customer', tierA, true],
    ['a tier B customer', tierB, true],
    ['a GROW customer in tier C', tierCGrow, true],
    ['a RETAIN customer in tier C', tierCRetain, false],
    ['a RETAIN customer in tier D', tierDRetain, false],
  ])('asks a promoter for a referral when it is %s: %s', (_name, value, asks) => {
    const { tasks } = route(value, nps(9));
    expect(tasks.some((t) => t.kind === 'REFERRAL_REQUEST')).toBe(asks);
  });

  it('does nothing with a passive', () => {
    expect(route(tierA, nps(8)).emit).toEqual([]);
  });

  it.each([
    ['tier A', tierA, 'am-042'],
    ['tier B', tierB, 'am-042'],
    ['GROW in tier C', tierCGrow, 'am-042'],
  ])(
    'involves everyone at once for a detractor in %s: critical alert to the owner and a P1 service recovery',
    (_n, value, owner) => {
      const { tasks, alerts } = route(value, nps(3));
      expect(alerts).toMatchObject([{ kind: 'HIGH_VALUE_DETRACTOR', severity: 'CRITICAL', owner }]);
      expect(tasks).toMatchObject([{ kind: 'SERVICE_RECOVERY', priority: 'P1', dueAt: FIXTURE_NOW + 24 * HOUR }]);
    },
  );

  it('answers a low-value, low-potential detractor professionally with a P4 task and no alert', () => {
    const { tasks, alerts } = route(tierDRetain, nps(2));
    expect(alerts).toEqual([]);
    expect(tasks).toMatchObject([{ kind: 'SERVICE_RECOVERY', priority: 'P4', queue: 'contact-center' }]);
  });

  it.each([
    ['tier A', tierA, true],
    ['tier B', tierB, true],
    ['tier C', tierCGrow, false],
    ['tier D', tierDRetain, false],
  ])('raises a silent-customer alert for an unanswered survey in %s: %s', (_n, value, alerts) => {
    const result = route(value, { status: 'UNANSWERED', score: null });
    expect(result.alerts.some((a) => a.kind === 'SILENT_CUSTOMER')).toBe(alerts);
  });

  it('routes a survey once, however often it is delivered', () => {
    const first = route(tierA, nps(2));
    const again = routeSurvey(first.event, first.state, aContext());
    expect(again.emit).toEqual([]);
    expect(again.state).toEqual(first.state);
  });

  it('routes a survey from a customer of unknown value as a tier D RETAIN customer, without throwing', () => {
    const { tasks, alerts } = route(null, nps(1));
    expect(alerts).toEqual([]);
    expect(tasks).toMatchObject([{ priority: 'P4' }]);
  });

  it('emits records that satisfy their contracts', () => {
    const all: Emitted[] = [
      ...route(tierA, nps(1)).emit,
      ...route(tierA, nps(10)).emit,
      ...route(tierA, { status: 'UNANSWERED', score: null }).emit,
    ];
    expect(all).toHaveLength(4);
    for (const e of all) {
      const record = e.topic === 'contact-center.tasks.v1' ? 'ContactTask' : 'ChurnAlert';
      expect(validateRecord(record, e.value)).toMatchObject({ ok: true });
    }
  });
});
