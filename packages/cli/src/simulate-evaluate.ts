/**
 * Judging a policy's decisions against the truth of a simulated world. For each
 * cancellation, the oracle knows the true save rates and churn: its value is the best
 * true expected value of any offer the reason allows the customer, or 0 for letting the
 * customer go. The policy keeps the true expected value of the offer it chose. Offer
 * costs, eligibility and the contact cost are the policy's own (`weighOffers`).
 *
 * Pure: no I/O.
 */
import type { CancellationReason, ChurnDecision, ContactTask, CustomerValue, Offer } from '@churn/contracts';
import { minorUnitsOf, type Policy, retentionTaskIdsOf, weighOffers } from '@churn/domain';
import { type Cohort, trueRemainingLifetimeValue, trueSaveRate, type WorldParameters } from './simulate-world.ts';

/** What the policy chose for a cancellation: an offer brought by a retention task, or null for letting the customer go. */
export type Choice = Offer | null;

/**
 * The offer a decision brings to the customer: null for a graceful offboarding; for a
 * tier A dialogue with EXECUTIVE_ESCALATION the offer its retention task carries.
 */
export function choiceOf(decision: ChurnDecision, tasks: readonly ContactTask[]): Choice {
  if (decision.action !== 'WIN_BACK') return null;
  if (decision.offer !== 'EXECUTIVE_ESCALATION') return decision.offer;
  const main = retentionTaskIdsOf(decision)[0];
  return tasks.find((t) => t.taskId === main)?.offer ?? 'NONE';
}

export interface CaseInput {
  readonly reason: CancellationReason;
  readonly cohort: Cohort;
  /** The customer's true monthly margin, minor units. */
  readonly trueMonthlyMargin: number;
  /** The customer value snapshot the decision used. */
  readonly value: CustomerValue;
  readonly choice: Choice;
}

export interface CaseValue {
  /** The oracle's true expected value and the policy's, major units. */
  readonly oracle: number;
  readonly kept: number;
  /** The oracle's offer (null: let go). */
  readonly oracleChoice: Choice;
  /** True remaining lifetime value, major units. */
  readonly trueLifetimeValue: number;
}

/** What an offer costs this customer under the policy's cost rules (minor units), also for an offer the reason does not weigh. */
function offerCost(policy: Policy, value: CustomerValue, offer: Offer): number {
  for (const offers of Object.values(policy.tables.offersByReason)) {
    const rule = offers.find((o) => o.offer === offer);
    if (rule === undefined) continue;
    const unit = minorUnitsOf(policy, value.currency);
    return Math.round(
      rule.marginFactor * value.margin12m + rule.revenueFactor * value.revenue12m + rule.fixedMajor * unit,
    );
  }
  return 0;
}

/**
 * The oracle's and the policy's true expected value for one cancellation: trueP x
 * (true remaining lifetime value - offer cost) - contact cost for an offer, 0 for
 * letting go. The oracle takes the best of letting go and every offer the reason allows
 * the customer (and the policy's own choice, should the policy bring an offer the reason
 * does not weigh), so it is never below the policy.
 */
export function evaluateCase(policy: Policy, world: WorldParameters, input: CaseInput): CaseValue {
  const unit = minorUnitsOf(policy, input.value.currency);
  const contact = policy.contactCost * unit;
  const lifetime = trueRemainingLifetimeValue(world, input.cohort, input.trueMonthlyMargin);
  const worth = (offer: Offer, cost: number) =>
    trueSaveRate(world, input.reason, offer, input.cohort) * (lifetime - cost) - contact;
  let oracle = 0;
  let oracleChoice: Choice = null;
  for (const w of weighOffers(policy, input.value, input.reason)) {
    const v = worth(w.offer, w.cost);
    if (v > oracle) {
      oracle = v;
      oracleChoice = w.offer;
    }
  }
  const kept = input.choice === null ? 0 : worth(input.choice, offerCost(policy, input.value, input.choice));
  if (kept > oracle) {
    oracle = kept;
    oracleChoice = input.choice;
  }
  return { oracle: oracle / unit, kept: kept / unit, oracleChoice, trueLifetimeValue: lifetime / unit };
}

/** One judged cancellation. */
export interface JudgedCase extends CaseValue {
  readonly month: number;
  readonly customerId: string;
  readonly reason: CancellationReason;
  /** The cohort's key, segment/nps/tenure. */
  readonly cohort: string;
  readonly tier: string;
  readonly choice: Choice;
}

export interface ShareOfValue {
  readonly cancellations: number;
  /** Cancellations on which the policy kept as much as the oracle (its choice was as good). */
  readonly asGoodAsOracle: number;
  /** Sums of the oracle's and the policy's true expected value, major units. */
  readonly oracle: number;
  readonly kept: number;
  /** kept / oracle; null when the oracle's value is 0. */
  readonly share: number | null;
}

export function shareOf(cases: readonly CaseValue[]): ShareOfValue {
  const oracle = cases.reduce((s, c) => s + c.oracle, 0);
  const kept = cases.reduce((s, c) => s + c.kept, 0);
  const asGoodAsOracle = cases.filter((c) => c.kept >= c.oracle - 1e-9).length;
  return { cancellations: cases.length, asGoodAsOracle, oracle, kept, share: oracle > 0 ? kept / oracle : null };
}

/** Months in the early and the late third of a run of `months` months (at least one each). */
export function thirdOf(months: number): number {
  return Math.max(1, Math.round(months / 3));
}

export interface Evaluation {
  /** The first `third` months (0-based month < third) and the last `third` (month >= months - third). */
  readonly third: number;
  readonly early: ShareOfValue;
  readonly late: ShareOfValue;
  readonly total: ShareOfValue;
  readonly byMonth: readonly ShareOfValue[];
}

export function evaluate(cases: readonly JudgedCase[], months: number): Evaluation {
  const third = thirdOf(months);
  return {
    third,
    early: shareOf(cases.filter((c) => c.month < third)),
    late: shareOf(cases.filter((c) => c.month >= months - third)),
    total: shareOf(cases),
    byMonth: Array.from({ length: months }, (_, m) => shareOf(cases.filter((c) => c.month === m))),
  };
}
