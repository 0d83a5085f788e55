import type { ChurnDecision, CustomerValue, LearningSnapshot, Offer, TaskOutcome } from '@churn/contracts';
import { aChurnDecision, aCustomerValue, aTaskOutcome, FIXTURE_NOW } from '@churn/contracts/testing';
import { armOf, loadPolicy, mergeDocuments, type Policy, retentionTaskIdsOf, weighOffers } from '@churn/domain';
import { defaultPolicyDocument } from '@churn/domain/testing';
import { describe, expect, it } from 'vitest';
import type { RetentionCall } from './backtest.ts';
import {
  differenceInterval,
  differenceSentence,
  type ExperimentReport,
  experimentReport,
  meanInterval,
  offerCostOf,
  renderExperimentText,
  wilsonInterval,
  Z_95,
} from './experiment-report.ts';

/** Wilson's interval in its other closed form: (2np + z² -/+ z sqrt(z² + 4np(1 - p))) / (2(n + z²)). */
function wilsonByHand(successes: number, n: number, z: number): [number, number] {
  const p = successes / n;
  const root = z * Math.sqrt(z * z + 4 * n * p * (1 - p));
  return [(2 * n * p + z * z - root) / (2 * (n + z * z)), (2 * n * p + z * z + root) / (2 * (n + z * z))];
}

describe('the intervals', () => {
  it('gives the Wilson score interval of a save rate', () => {
    // 8 of 10 at z = 1.96: the textbook interval is 0.490 to 0.943.
    const known = wilsonInterval(8, 10, 1.96);
    expect(known?.rate).toBe(0.8);
    expect(known?.low).toBeCloseTo(0.4902, 4);
    expect(known?.high).toBeCloseTo(0.9433, 4);
    for (const [s, n] of [
      [0, 5],
      [1, 2],
      [3, 7],
      [40, 90],
      [17, 17],
    ] as const) {
      const w = wilsonInterval(s, n);
      const [low, high] = wilsonByHand(s, n, Z_95);
      expect(w?.low).toBeCloseTo(Math.max(0, low), 12);
      expect(w?.high).toBeCloseTo(Math.min(1, high), 12);
      expect(w?.low).toBeLessThanOrEqual(s / n);
      expect(w?.high).toBeGreaterThanOrEqual(s / n);
    }
    expect(wilsonInterval(0, 5)?.low).toBe(0);
    expect(wilsonInterval(17, 17)?.high).toBeCloseTo(1, 12);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('narrows the interval as the tries grow at the same rate', () => {
    const widths = [10, 40, 160, 640, 2560].map((n) => {
      const w = wilsonInterval(0.3 * n, n);
      return (w?.high ?? 1) - (w?.low ?? 0);
    });
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeLessThan(widths[i - 1] as number);
    // Four times the tries, about half the width.
    expect((widths[4] as number) / (widths[3] as number)).toBeCloseTo(0.5, 1);
  });

  it('gives the difference of two save rates with its normal interval', () => {
    const d = differenceInterval(30, 50, 20, 50);
    const p1 = 30 / 50;
    const p0 = 20 / 50;
    const half = Z_95 * Math.sqrt((p1 * (1 - p1)) / 50 + (p0 * (1 - p0)) / 50);
    expect(d?.difference).toBeCloseTo(0.2, 12);
    expect(d?.low).toBeCloseTo(0.2 - half, 12);
    expect(d?.high).toBeCloseTo(0.2 + half, 12);
    expect(differenceInterval(1, 0, 1, 2)).toBeNull();
    expect(differenceInterval(1, 2, 0, 0)).toBeNull();
  });

  it('gives the mean of the value kept with its normal interval', () => {
    const values = [0, 0, 600, 0, 1200];
    const m = meanInterval(values);
    const mean = 360;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / 4);
    expect(m.mean).toBe(mean);
    expect(m.low).toBeCloseTo(mean - (Z_95 * sd) / Math.sqrt(5), 9);
    expect(m.high).toBeCloseTo(mean + (Z_95 * sd) / Math.sqrt(5), 9);
    expect(meanInterval([5])).toEqual({ n: 1, mean: 5, low: null, high: null });
    expect(meanInterval([])).toEqual({ n: 0, mean: 0, low: null, high: null });
  });

  it('says the difference in plain words', () => {
    expect(differenceSentence('generous', 'control', { difference: 0.12, low: 0.03, high: 0.21 }, 200)).toBe(
      'generous saves 12 points more than control, between 3 and 21 points more: unlikely to be chance (95% interval).',
    );
    expect(differenceSentence('lean', 'control', { difference: -0.1, low: -0.18, high: -0.02 }, 200)).toBe(
      'lean saves 10 points fewer than control, between 2 and 18 points fewer: unlikely to be chance (95% interval).',
    );
    const unsure = differenceSentence('generous', 'control', { difference: 0.04, low: -0.05, high: 0.13 }, 8);
    expect(unsure).toContain('generous saves 4 points more than control, between 5 points fewer and 13 more');
    expect(unsure).toContain('could be chance');
    expect(unsure).toContain('too few to go by');
  });
});

// ------------------------------------------------------------------ the report over decisions made by hand

const policy: Policy = loadPolicy(
  mergeDocuments(defaultPolicyDocument, {
    experiment: {
      name: 'offers-test',
      arms: [
        { name: 'control', share: 0.5 },
        {
          name: 'generous',
          share: 0.5,
          overrides: { version: 'generous-1', offers: { PRICE: { DOWNGRADE: { probability: 0.9 } } } },
        },
      ],
    },
  }),
);
const doc = defaultPolicyDocument as {
  offerCosts: Record<string, { basis: string; share?: number; months?: number; amount?: number }>;
};
const DKK = 100;

/** Customer ids the experiment's hash puts in each arm. */
const ids = Array.from({ length: 60 }, (_, i) => `cust-${i}`);
const inArm = (arm: string) => ids.filter((id) => armOf(policy, id)?.name === arm);
const [c1, c2, c3, c4] = inArm('control') as [string, string, string, string];
const [g1, g2, g3, g4] = inArm('generous') as [string, string, string, string];

/** The cost of an offer from the policy file's numbers. */
function costByHand(offer: string, value: CustomerValue): number {
  const c = doc.offerCosts[offer] as { basis: string; share?: number; months?: number; amount?: number };
  if (c.basis === 'fixed') return (c.amount as number) * DKK;
  const base = c.basis === 'margin' ? value.margin12m : value.revenue12m;
  return Math.round((((c.share as number) * (c.months as number)) / 12) * base);
}

let n = 0;
function decision(
  customerId: string,
  arm: string | null,
  fields: Omit<Partial<ChurnDecision>, 'value'> & { value?: Partial<CustomerValue> } = {},
): ChurnDecision {
  n++;
  const { value, ...rest } = fields;
  return aChurnDecision({
    causationId: `cancel-${n}`,
    occurredAt: FIXTURE_NOW + n * 1000,
    arm,
    policyVersion: arm === 'generous' ? 'generous-1' : policy.version,
    value: aCustomerValue({ customerId, ...value }),
    customerId,
    ...rest,
  });
}
const callOf = (d: ChurnDecision, offer: Offer): RetentionCall => ({
  taskId: retentionTaskIdsOf(d)[0] as string,
  causationId: d.causationId,
  offer,
});
let o = 0;
const outcome = (d: ChurnDecision, kind: TaskOutcome['outcome'], which = 0): TaskOutcome =>
  aTaskOutcome({
    taskId: retentionTaskIdsOf(d)[which] as string,
    customerId: d.customerId,
    outcome: kind,
    occurredAt: FIXTURE_NOW + 1_000_000 + ++o,
  });

// Control: c1 saved (and cancels again later, no outcome yet); c2 not reached, then lost;
// c3's call closed by COMPLETED (a later RETAINED does not count); c4 let go (an outcome of
// a call never made does not count).
const saved1 = decision(c1, 'control', { reason: 'PRICE', offer: 'DOWNGRADE' });
const lost2 = decision(c2, 'control', { reason: 'PRICE', offer: 'DOWNGRADE' });
const closed3 = decision(c3, 'control', { reason: 'PRICE', offer: 'DOWNGRADE' });
const letGo4 = decision(c4, 'control', { action: 'GRACEFUL_OFFBOARDING', offer: 'NONE', expectedValue: 0 });
const again1 = decision(c1, 'control', { reason: 'PRICE', offer: 'DOWNGRADE' });
// Generous: g1 paused (EUR), g2 downgraded, g3 lost, g4 a tier-A meeting brought after a
// life change (the reason's table has no meeting: its cost comes from offerCosts), saved;
// an outcome of g4's escalation call does not count.
const paused1 = decision(g1, 'generous', {
  reason: 'LIFE_CHANGE',
  offer: 'PAUSE',
  value: { currency: 'EUR', margin12m: 2_400_000, remainingLifetimeValue: 9_000_000 },
});
const downgraded2 = decision(g2, 'generous', { reason: 'PRICE', offer: 'DOWNGRADE' });
const lost3 = decision(g3, 'generous', { reason: 'PRICE', offer: 'DOWNGRADE' });
const meeting4 = decision(g4, 'generous', {
  reason: 'LIFE_CHANGE',
  offer: 'ACCOUNT_MANAGER_MEETING',
  tier: 'A',
  value: { tier: 'A', remainingLifetimeValue: 50_000_000 },
});
// A decision from before the experiment: no arm.
const before = decision('cust-old', null, { reason: 'PRICE', offer: 'DOWNGRADE' });

const decisions = [saved1, lost2, closed3, letGo4, again1, paused1, downgraded2, lost3, meeting4, before];
const calls: RetentionCall[] = [
  callOf(saved1, 'DOWNGRADE'),
  callOf(lost2, 'DOWNGRADE'),
  callOf(closed3, 'DOWNGRADE'),
  callOf(again1, 'DOWNGRADE'),
  callOf(paused1, 'PAUSE'),
  callOf(downgraded2, 'DOWNGRADE'),
  callOf(lost3, 'DOWNGRADE'),
  callOf(meeting4, 'ACCOUNT_MANAGER_MEETING'),
  callOf(before, 'DOWNGRADE'),
];
const outcomes: TaskOutcome[] = [
  outcome(saved1, 'RETAINED'),
  outcome(lost2, 'NO_CONTACT'),
  outcome(lost2, 'LOST'),
  outcome(closed3, 'COMPLETED'),
  outcome(closed3, 'RETAINED'),
  outcome(letGo4, 'RETAINED'),
  outcome(paused1, 'PAUSED'),
  outcome(downgraded2, 'DOWNGRADED'),
  outcome(lost3, 'LOST'),
  outcome(meeting4, 'RETAINED'),
  outcome(meeting4, 'LOST', 1),
  outcome(before, 'LOST'),
];
const snapshot: LearningSnapshot = {
  eventId: 'snap',
  occurredAt: FIXTURE_NOW,
  partition: 0,
  saves: [],
  exposures: [],
  arms: [{ arm: 'generous', saves: 2, tries: 3 }],
};
const history = { file: 'history.jsonl', lines: 99, events: 98, badLines: 1 };

function report(): ExperimentReport {
  return experimentReport(
    {
      source: 'experiment.json',
      policy,
      decisions,
      retentionCalls: calls,
      customers: [...ids, 'cust-old'],
      lastSnapshot: snapshot,
    },
    outcomes,
    history,
  );
}

describe('the experiment report', () => {
  it('counts customers, decisions, win-backs, tries and saves per arm, as made by hand', () => {
    const r = report();
    expect(r.experiment).toBe('offers-test');
    expect(r.arms.map((a) => a.arm)).toEqual(['control', 'generous']);
    const [control, generous] = r.arms as [ExperimentReport['arms'][number], ExperimentReport['arms'][number]];
    expect(control).toMatchObject({
      customers: 4,
      decisions: 5,
      winBacks: 4,
      letGo: 1,
      calls: 4,
      tries: 2,
      saves: 1,
      losses: 1,
      notReached: 1,
      closedUncounted: 1,
      policyVersions: [policy.version],
    });
    expect(generous).toMatchObject({
      customers: 4,
      decisions: 4,
      winBacks: 4,
      letGo: 0,
      calls: 4,
      tries: 4,
      saves: 3,
      losses: 1,
      notReached: 0,
      closedUncounted: 0,
      policyVersions: ['generous-1'],
    });
    // Every customer of the history, by its hash, whether or not it cancelled.
    const population = [...ids, 'cust-old'].map((id) => armOf(policy, id)?.name);
    expect(control.customersInHistory).toBe(population.filter((a) => a === 'control').length);
    expect(generous.customersInHistory).toBe(population.filter((a) => a === 'generous').length);
    expect(control.customersInHistory + generous.customersInHistory).toBe(61);
    expect(r.unassigned).toBe(1);
    expect(r.totals).toMatchObject({ customers: 9, decisions: 10, tries: 7, saves: 4, customersInHistory: 61 });
    expect(r.history).toMatchObject({ ...history, outcomes: outcomes.length, customers: 61 });
    // Outcomes of the calls made, whether counted or not (not g4's escalation nor c4's).
    expect(r.history.outcomesOfCalls).toBe(10);
    expect(r.decisions.find((d) => d.cancellation === again1.causationId)?.result).toBe('noOutcome');
    expect(r.decisions.find((d) => d.cancellation === letGo4.causationId)?.result).toBeNull();
  });

  it('gives each save rate its Wilson interval and the difference against the control', () => {
    const [control, generous] = report().arms as [ExperimentReport['arms'][number], ExperimentReport['arms'][number]];
    expect(control.saveRate).toEqual(wilsonInterval(1, 2));
    expect(generous.saveRate).toEqual(wilsonInterval(3, 4));
    expect(control.againstControl).toBeNull();
    const half = Z_95 * Math.sqrt((0.75 * 0.25) / 4 + (0.5 * 0.5) / 2);
    expect(generous.againstControl?.difference).toBeCloseTo(0.25, 12);
    expect(generous.againstControl?.low).toBeCloseTo(0.25 - half, 12);
    expect(generous.againstControl?.high).toBeCloseTo(0.25 + half, 12);
    expect(generous.againstControl?.sentence).toMatch(
      /^generous saves 25 points more than control, between \d+ points fewer and \d+ more: could be chance/,
    );
    expect(generous.learned).toEqual({ saves: 2, tries: 3 });
    expect(control.learned).toEqual({ saves: 0, tries: 0 });
  });

  it("keeps, per currency, the saved customers' remaining lifetime value less the offer's cost", () => {
    const r = report();
    const [control, generous] = r.arms as [ExperimentReport['arms'][number], ExperimentReport['arms'][number]];
    const kept1 = saved1.value.remainingLifetimeValue - costByHand('DOWNGRADE', saved1.value);
    expect(control.valueKept).toEqual([
      {
        currency: 'DKK',
        decisions: 5,
        saves: 1,
        total: kept1,
        mean: kept1 / 5,
        low: meanInterval([kept1, 0, 0, 0, 0]).low,
        high: meanInterval([kept1, 0, 0, 0, 0]).high,
      },
    ]);
    const keptPause = paused1.value.remainingLifetimeValue - costByHand('PAUSE', paused1.value);
    const keptDowngrade = downgraded2.value.remainingLifetimeValue - costByHand('DOWNGRADE', downgraded2.value);
    const keptMeeting = meeting4.value.remainingLifetimeValue - costByHand('ACCOUNT_MANAGER_MEETING', meeting4.value);
    expect(keptMeeting).toBe(50_000_000 - 150_000);
    expect(generous.valueKept.map((v) => [v.currency, v.decisions, v.saves, v.total])).toEqual([
      ['DKK', 3, 2, keptDowngrade + keptMeeting],
      ['EUR', 1, 1, keptPause],
    ]);
    expect(generous.valueKept[0]?.mean).toBeCloseTo((keptDowngrade + keptMeeting) / 3, 9);
    expect(generous.valueKept[1]?.low).toBeNull();
    expect(r.minorUnitsPerMajor).toEqual({ DKK: 100, EUR: 100 });
  });

  it("takes an offer's cost from weighOffers, and from offerCosts for an offer the reason does not weigh", () => {
    const value = aCustomerValue({ tenureDays: 2000 });
    for (const reason of ['PRICE', 'LIFE_CHANGE', 'SERVICE_ISSUE', 'PAYMENT_PROBLEM'] as const) {
      for (const w of weighOffers(policy, value, reason)) {
        expect(offerCostOf(policy, value, reason, w.offer)).toBe(w.cost);
        expect(offerCostOf(policy, value, reason, w.offer)).toBe(costByHand(w.offer, value));
      }
    }
    expect(offerCostOf(policy, value, 'LIFE_CHANGE', 'ACCOUNT_MANAGER_MEETING')).toBe(1500 * DKK);
    expect(offerCostOf(policy, value, 'PRICE', 'NONE')).toBe(0);
  });

  it('renders a table per arm, the difference in words and the value kept', () => {
    const text = renderExperimentText(report());
    expect(text).toContain('Experiment offers-test over history.jsonl: 98 events, 1 bad lines, 61 customers');
    expect(text).toMatch(/\n {2}control +50% +default-\S+ +\d+ +4 +5 +4 +2 +1 +50% \(/);
    expect(text).toMatch(/\n {2}generous +50% +generous-1 +\d+ +4 +4 +4 +4 +3 +75% \(/);
    expect(text).toContain('generous saves 25 points more than control');
    expect(text).toContain('1 decisions carry no arm of the experiment');
    expect(text).toMatch(/generous +DKK +3 +2 /);
    expect(text).toContain("The learning stage's own tally as of 2026-01-15");
  });

  it('refuses a policy without an experiment', () => {
    const plain = loadPolicy(defaultPolicyDocument);
    expect(() =>
      experimentReport(
        { source: 'p.json', policy: plain, decisions: [], retentionCalls: [], customers: [], lastSnapshot: null },
        [],
        history,
      ),
    ).toThrow(/defines no experiment/);
  });
});
