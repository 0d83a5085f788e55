import type { CancellationReason, CustomerValue } from '@churn/contracts';
import { CancellationReasonValues } from '@churn/contracts';
import { aChurnDecision, aContactTask, aCustomerValue } from '@churn/contracts/testing';
import { loadPolicy, minorUnitsOf, retentionTaskIdsOf, weighOffers } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { Random } from './generate.ts';
import {
  type CaseInput,
  type Choice,
  choiceOf,
  evaluate,
  evaluateCase,
  shareOf,
  thirdOf,
} from './simulate-evaluate.ts';
import {
  allCohorts,
  type Cohort,
  trueRemainingLifetimeValue,
  trueSaveRate,
  worldParameters,
} from './simulate-world.ts';

const policy = loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));
const world = worldParameters(21, policy);

/** Random but plausible cases: any reason, cohort, segment, tenure, owner, margin (also negative). */
function randomCases(n: number, seed: number): Omit<CaseInput, 'choice'>[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => {
    const cohort = allCohorts[rng.int(0, allCohorts.length - 1)] as Cohort;
    const monthlyRevenue = Math.round(rng.between(50, 150_000) * 100);
    const marginRate = rng.chance(0.1) ? rng.between(-0.3, 0) : rng.between(0.2, 0.5);
    const value: CustomerValue = aCustomerValue({
      segment: cohort.segment,
      accountManager: rng.chance(0.5) ? 'am-01' : null,
      tenureDays:
        cohort.tenure === 'NEW'
          ? rng.int(60, 364)
          : cohort.tenure === 'ESTABLISHED'
            ? rng.int(365, 1094)
            : rng.int(1095, 3000),
      revenue12m: monthlyRevenue * 12,
      margin12m: Math.round(monthlyRevenue * 12 * marginRate),
    });
    return {
      reason: CancellationReasonValues[rng.int(0, CancellationReasonValues.length - 1)] as CancellationReason,
      cohort,
      trueMonthlyMargin: monthlyRevenue * marginRate * rng.between(0.8, 1.2),
      value,
    };
  });
}

/** Every choice a policy could make for a case: let go, no offer, or any offer the reason weighs for the customer. */
function choicesFor(c: Omit<CaseInput, 'choice'>): Choice[] {
  return [null, 'NONE', ...weighOffers(policy, c.value, c.reason).map((w) => w.offer)];
}

describe('evaluating a decision against the truth', () => {
  it('never gives a policy more than the oracle, and the oracle never less than letting go', () => {
    for (const c of randomCases(400, 1)) {
      for (const choice of choicesFor(c)) {
        const judged = evaluateCase(policy, world, { ...c, choice });
        expect(judged.oracle).toBeGreaterThanOrEqual(0);
        expect(judged.kept).toBeLessThanOrEqual(judged.oracle);
      }
    }
  });

  it('scores a policy that picks the oracle’s choice 1, and one that lets everyone go 0', () => {
    const cases = randomCases(300, 2);
    const asOracle = cases.map((c) => {
      const oracleChoice = evaluateCase(policy, world, { ...c, choice: null }).oracleChoice;
      return evaluateCase(policy, world, { ...c, choice: oracleChoice });
    });
    expect(asOracle.some((j) => j.oracle > 0)).toBe(true);
    for (const j of asOracle) expect(j.kept).toBe(j.oracle);
    const share = shareOf(asOracle);
    expect(share.share).toBe(1);
    expect(share.asGoodAsOracle).toBe(cases.length);
    const lettingGo = shareOf(cases.map((c) => evaluateCase(policy, world, { ...c, choice: null })));
    expect(lettingGo.kept).toBe(0);
    expect(lettingGo.share).toBe(0);
  });

  it('values an offer at trueP x (true lifetime value - the policy’s cost) - contact cost, in major units', () => {
    for (const c of randomCases(200, 3)) {
      const unit = minorUnitsOf(policy, c.value.currency);
      const lifetime = trueRemainingLifetimeValue(world, c.cohort, c.trueMonthlyMargin);
      for (const w of weighOffers(policy, c.value, c.reason)) {
        const expected =
          (trueSaveRate(world, c.reason, w.offer, c.cohort) * (lifetime - w.cost) - policy.contactCost * unit) / unit;
        expect(evaluateCase(policy, world, { ...c, choice: w.offer }).kept).toBeCloseTo(expected, 6);
      }
      // A call that brings no offer saves nobody: it costs the contact.
      expect(evaluateCase(policy, world, { ...c, choice: 'NONE' }).kept).toBeCloseTo(-policy.contactCost, 6);
      expect(evaluateCase(policy, world, { ...c, choice: null }).kept).toBe(0);
      expect(evaluateCase(policy, world, { ...c, choice: null }).trueLifetimeValue).toBeCloseTo(lifetime / unit, 6);
    }
  });

  it('reads the offer a decision brings: none when letting go, the retention task’s for an escalation', () => {
    const offboarding = aChurnDecision({ action: 'GRACEFUL_OFFBOARDING', offer: 'NONE' });
    expect(choiceOf(offboarding, [])).toBeNull();
    const winBack = aChurnDecision({ action: 'WIN_BACK', offer: 'PAUSE' });
    expect(choiceOf(winBack, [])).toBe('PAUSE');
    const escalation = aChurnDecision({ action: 'WIN_BACK', offer: 'EXECUTIVE_ESCALATION' });
    const [main, sponsor] = retentionTaskIdsOf(escalation);
    const tasks = [
      aContactTask({ taskId: sponsor, kind: 'RETENTION_CALL', offer: 'EXECUTIVE_ESCALATION' }),
      aContactTask({ taskId: main, kind: 'RETENTION_CALL', offer: 'LOYALTY_BONUS' }),
    ];
    expect(choiceOf(escalation, tasks)).toBe('LOYALTY_BONUS');
  });

  it('splits the months into an early and a late third and adds up the shares', () => {
    const months = 9;
    const third = thirdOf(months);
    expect(third).toBe(months / 3);
    const cases = randomCases(90, 4).map((c, i) => ({
      month: i % months,
      customerId: `c${i}`,
      reason: c.reason,
      cohort: 'x',
      tier: 'C',
      choice: null,
      ...evaluateCase(policy, world, { ...c, choice: i % 2 === 0 ? null : 'NONE' }),
    }));
    const result = evaluate(cases, months);
    expect(result.early.cancellations).toBe(cases.filter((c) => c.month < third).length);
    expect(result.late.cancellations).toBe(cases.filter((c) => c.month >= months - third).length);
    expect(result.total.cancellations).toBe(cases.length);
    expect(result.byMonth).toHaveLength(months);
    expect(result.byMonth.reduce((s, m) => s + m.oracle, 0)).toBeCloseTo(result.total.oracle, 6);
    expect(result.total.kept).toBeCloseTo(
      cases.reduce((s, c) => s + c.kept, 0),
      6,
    );
    expect(thirdOf(1)).toBe(1);
    expect(thirdOf(24)).toBe(8);
  });
});
