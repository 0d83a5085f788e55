import type {
  CancellationReason,
  CancellationRequested,
  ChurnAlert,
  ChurnDecision,
  ContactTask,
  CustomerValue,
  LearningSnapshot,
} from '@churn/contracts';
import { CancellationReasonValues, validateRecord } from '@churn/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { armOf, type CancellationState, decideOnCancellation, weighOffers } from './decision.ts';
import { blendRate, cohortOf } from './learning.ts';
import { loadPolicy, mergeDocuments, type Policy } from './policy.ts';
import type { Emitted } from './processor.ts';
import { formatMoney } from './routing.ts';
import {
  aB2bCustomer,
  aB2cCustomer,
  aCancellationOf,
  aContext,
  aLearningSnapshot,
  DAY,
  defaultPolicy,
  defaultPolicyDocument,
  FIXTURE_NOW,
  HOUR,
  learningPolicy,
  ORE,
} from './testing/index.ts';

const NOW = FIXTURE_NOW;

function split(emit: readonly Emitted[]) {
  const decisions: ChurnDecision[] = [];
  const tasks: ContactTask[] = [];
  const alerts: ChurnAlert[] = [];
  for (const e of emit) {
    if (e.topic === 'churn.decisions.v1') decisions.push(e.value);
    else if (e.topic === 'contact-center.tasks.v1') tasks.push(e.value);
    else if (e.topic === 'churn.alerts.v1') alerts.push(e.value);
  }
  return { decision: decisions[0]!, decisions, tasks, alerts };
}

function decide(
  value: CustomerValue | null,
  cancellation: Partial<CancellationRequested> = {},
  learning: { policy?: Policy; learned?: LearningSnapshot } = {},
) {
  const event = aCancellationOf(value ?? { customerId: 'cust-0001' }, cancellation);
  const state: CancellationState = { value, decided: [] };
  const result = decideOnCancellation(event, state, aContext({ now: NOW, ...learning }));
  return { ...split(result.emit), state: result.state, emit: result.emit, event };
}

/** A B2B tier B customer: 150 000 revenue, 45 000 margin (3 750 a month), 187 500 remaining lifetime value. */
const tierB = aB2bCustomer({ revenue12m: 150_000, tenureDays: 1_500 });

describe('deciding on a cancellation: the offers each reason allows', () => {
  it.each<[CancellationReason, [string, number][]]>([
    [
      'LIFE_CHANGE',
      [
        ['PAUSE', 0.6],
        ['DOWNGRADE', 0.45],
      ],
    ],
    [
      'PRICE',
      [
        ['DOWNGRADE', 0.5],
        ['LOYALTY_BONUS', 0.35],
      ],
    ],
    [
      'SERVICE_ISSUE',
      [
        ['SERVICE_RECOVERY', 0.4],
        ['ACCOUNT_MANAGER_MEETING', 0.45],
      ],
    ],
    ['PRODUCT_GAP', [['ACCOUNT_MANAGER_MEETING', 0.3]]],
    [
      'COMPETITOR',
      [
        ['LOYALTY_BONUS', 0.25],
        ['ACCOUNT_MANAGER_MEETING', 0.3],
      ],
    ],
    ['PAYMENT_PROBLEM', [['PAYMENT_PLAN', 0.5]]],
    ['NO_LONGER_NEEDED', [['PAUSE', 0.1]]],
    [
      'UNKNOWN',
      [
        ['ACCOUNT_MANAGER_MEETING', 0.3],
        ['DOWNGRADE', 0.2],
      ],
    ],
  ])('weighs for %s exactly the offers of the policy table, with their save probabilities', (reason, expected) => {
    const { decision } = decide(tierB, { reason });
    expect(decision.offersWeighed.map((o) => [o.offer, o.probability])).toEqual(expected);
  });

  it('offers a loyalty bonus for price only to a customer of at least 3 years', () => {
    const young = aB2bCustomer({ revenue12m: 150_000, tenureDays: 3 * 365 - 1 });
    const loyal = aB2bCustomer({ revenue12m: 150_000, tenureDays: 3 * 365 });
    expect(decide(young, { reason: 'PRICE' }).decision.offersWeighed.map((o) => o.offer)).toEqual(['DOWNGRADE']);
    expect(decide(loyal, { reason: 'PRICE' }).decision.offersWeighed.map((o) => o.offer)).toContain('LOYALTY_BONUS');
  });

  it('offers an account manager meeting only to a business customer with a named owner', () => {
    const offers = (v: CustomerValue) =>
      decide(v, { reason: 'PRODUCT_GAP' }).decision.offersWeighed.map((o) => o.offer);
    expect(offers(aB2bCustomer({ revenue12m: 150_000 }))).toEqual(['ACCOUNT_MANAGER_MEETING']);
    expect(offers(aB2bCustomer({ revenue12m: 150_000, accountManager: null }))).toEqual([]);
    expect(offers(aB2cCustomer({ revenue12m: 5_000, accountManager: 'am-1' }))).toEqual([]);
  });
});

describe('deciding on a cancellation: expected value', () => {
  // p x (remaining lifetime value - offer cost) - contact cost, for the tier B customer above.
  it.each([
    ['PAUSE (2 months of margin)', 'LIFE_CHANGE', 'PAUSE', 0.6 * (187_500 - 7_500) - 50],
    ['DOWNGRADE (30% of margin for 12 months)', 'LIFE_CHANGE', 'DOWNGRADE', 0.45 * (187_500 - 13_500) - 50],
    ['LOYALTY_BONUS (1 month of revenue)', 'PRICE', 'LOYALTY_BONUS', 0.35 * (187_500 - 12_500) - 50],
    ['PAYMENT_PLAN (1% of revenue12m)', 'PAYMENT_PROBLEM', 'PAYMENT_PLAN', 0.5 * (187_500 - 1_500) - 50],
    ['SERVICE_RECOVERY (internal cost 300)', 'SERVICE_ISSUE', 'SERVICE_RECOVERY', 0.4 * (187_500 - 300) - 50],
    [
      'ACCOUNT_MANAGER_MEETING (internal cost 1 500)',
      'SERVICE_ISSUE',
      'ACCOUNT_MANAGER_MEETING',
      0.45 * (187_500 - 1_500) - 50,
    ],
  ] as const)('prices %s', (_name, reason, offer, expectedMajor) => {
    const weighed = weighOffers(defaultPolicy, tierB, reason);
    expect(weighed.find((w) => w.offer === offer)?.expectedValue).toBe(Math.round(expectedMajor * ORE));
  });

  it('offers a pause to a valuable customer whose life changed', () => {
    const { decision, tasks } = decide(tierB, { reason: 'LIFE_CHANGE' });
    expect(decision.action).toBe('WIN_BACK');
    expect(decision.offer).toBe('PAUSE');
    expect(decision.expectedValue).toBe(Math.round((0.6 * (187_500 - 7_500) - 50) * ORE));
    expect(tasks).toMatchObject([{ kind: 'RETENTION_CALL', offer: 'PAUSE', queue: 'owner:am-042', priority: 'P2' }]);
  });

  it('lets a customer go gracefully when no offer is worth its cost', () => {
    // 300 revenue, 90 margin: a pause at 10% pays 0.1 x (375 - 15) - 50 < 0.
    const small = aB2cCustomer({ revenue12m: 300 });
    const { decision, tasks } = decide(small, { reason: 'NO_LONGER_NEEDED' });
    expect(decision.offersWeighed[0]?.expectedValue).toBeLessThan(0);
    expect(decision.action).toBe('GRACEFUL_OFFBOARDING');
    expect(decision.offer).toBe('NONE');
    expect(decision.expectedValue).toBe(0);
    expect(tasks.map((t) => t.kind)).toEqual(['THANK_YOU_MESSAGE', 'EXIT_SURVEY']);
  });

  it('never tries to win back a customer who costs more than it brings, however good the offers look', () => {
    const costly = aB2bCustomer({ revenue12m: 150_000, margin12m: -1, remainingLifetimeValue: 1_000_000 });
    const { decision, tasks } = decide(costly, { reason: 'LIFE_CHANGE' });
    expect(decision.action).toBe('GRACEFUL_OFFBOARDING');
    expect(decision.offer).toBe('NONE');
    expect(decision.offersWeighed).toEqual([]);
    expect(tasks.every((t) => t.offer === 'NONE')).toBe(true);
  });

  it('gives a leaving business customer an orderly handover: thank-you, exit survey and offboarding call', () => {
    const costly = aB2bCustomer({ revenue12m: 50_000, margin12m: 0 });
    expect(decide(costly).tasks.map((t) => t.kind)).toEqual(['THANK_YOU_MESSAGE', 'EXIT_SURVEY', 'OFFBOARDING_CALL']);
  });

  it('thanks a leaving consumer and asks for feedback, without a call', () => {
    const costly = aB2cCustomer({ revenue12m: 5_000, margin12m: -100 });
    expect(decide(costly).tasks.map((t) => t.kind)).toEqual(['THANK_YOU_MESSAGE', 'EXIT_SURVEY']);
  });
});

describe('deciding on a cancellation: tier A gets a human dialogue', () => {
  const tierA = aB2bCustomer({ revenue12m: 612_000, accountManager: 'am-7', executiveSponsor: 'exec-1' });

  it('has the account manager meet a tier A business customer, at P1, and alerts the owner critically', () => {
    const { decision, tasks, alerts } = decide(tierA, { reason: 'PRICE' });
    expect(decision.action).toBe('WIN_BACK');
    expect(tasks[0]).toMatchObject({
      kind: 'RETENTION_CALL',
      offer: decision.offer,
      queue: 'owner:am-7',
      priority: 'P1',
    });
    expect(alerts).toContainEqual(
      expect.objectContaining({ kind: 'HIGH_VALUE_AT_RISK', severity: 'CRITICAL', owner: 'am-7' }),
    );
  });

  it('calls a tier A consumer at P1 and alerts critically', () => {
    const consumer = aB2cCustomer({ revenue12m: 12_000 });
    const { decision, tasks, alerts } = decide(consumer, { reason: 'NO_LONGER_NEEDED' });
    expect(decision.action).toBe('WIN_BACK');
    expect(tasks[0]).toMatchObject({ kind: 'RETENTION_CALL', priority: 'P1', queue: 'contact-center' });
    expect(alerts.map((a) => [a.kind, a.severity])).toContainEqual(['HIGH_VALUE_AT_RISK', 'CRITICAL']);
  });

  it.each(CancellationReasonValues)(
    'brings the decided offer to a tier A customer cancelling because of %s: the task carries it',
    (reason) => {
      for (const customer of [tierA, aB2cCustomer({ revenue12m: 12_000 })]) {
        const { decision, tasks } = decide(customer, { reason });
        const dialogue = tasks.find((t) => t.kind === 'RETENTION_CALL' && t.offer !== 'EXECUTIVE_ESCALATION');
        const paying = decision.offersWeighed.filter((o) => o.expectedValue > 0);
        const bestPaying = paying.reduce<(typeof paying)[number] | null>(
          (b, o) => (b === null || o.expectedValue > b.expectedValue ? o : b),
          null,
        );
        // The dialogue carries the best paying offer; without one, a business customer's
        // account manager meeting, a consumer's call with nothing to offer.
        const carried = bestPaying?.offer ?? (customer.segment === 'B2B' ? 'ACCOUNT_MANAGER_MEETING' : 'NONE');
        expect(dialogue?.offer).toBe(carried);
        // The decision names that offer, or the escalation, whose own task carries it.
        if (decision.offer === 'EXECUTIVE_ESCALATION')
          expect(tasks.map((t) => t.offer)).toContain('EXECUTIVE_ESCALATION');
        else expect(decision.offer).toBe(carried);
      }
    },
  );

  it('gives tier A a human dialogue even when no offer pays', () => {
    const thin = aB2bCustomer({ revenue12m: 600_000, margin12m: 100, remainingLifetimeValue: 1 });
    const { decision, tasks } = decide(thin, { reason: 'PRODUCT_GAP' });
    expect(decision.offersWeighed.every((o) => o.expectedValue <= 0)).toBe(true);
    expect(decision.action).toBe('WIN_BACK');
    expect(tasks[0]).toMatchObject({ offer: 'ACCOUNT_MANAGER_MEETING', priority: 'P1' });
  });

  it.each([
    ['SERVICE_ISSUE', true],
    ['PRODUCT_GAP', true],
    ['COMPETITOR', true],
    ['PRICE', false],
    ['LIFE_CHANGE', false],
    ['UNKNOWN', false],
  ] as const)('escalates a tier A cancellation because of %s to the executive sponsor: %s', (reason, escalates) => {
    const { decision, tasks } = decide(tierA, { reason });
    const escalation = tasks.find((t) => t.offer === 'EXECUTIVE_ESCALATION');
    expect(decision.offer === 'EXECUTIVE_ESCALATION').toBe(escalates);
    expect(escalation !== undefined).toBe(escalates);
    if (escalation) expect(escalation).toMatchObject({ queue: 'owner:exec-1', priority: 'P1' });
  });

  it('does not give a dialogue to a tier A customer with no margin', () => {
    const costly = aB2bCustomer({ revenue12m: 700_000, margin12m: -5_000 });
    const { decision, alerts } = decide(costly, { reason: 'SERVICE_ISSUE' });
    expect(decision.action).toBe('GRACEFUL_OFFBOARDING');
    expect(alerts.map((a) => a.kind)).not.toContain('HIGH_VALUE_AT_RISK');
  });
});

describe('deciding on a cancellation: early churn', () => {
  it('tells Sales and Marketing about a cancellation before payback', () => {
    const young = aB2bCustomer({
      revenue12m: 150_000,
      tenureDays: 90,
      acquisitionCost: 50_000,
      cumulativeMargin: 10_000,
    });
    const { alerts } = decide(young);
    expect(alerts).toContainEqual(
      expect.objectContaining({ kind: 'EARLY_TENURE_CANCELLATION', owner: 'sales-marketing', customerId: 'cust-0001' }),
    );
  });

  it('raises no early-tenure alert once the customer has paid back', () => {
    const paid = aB2bCustomer({ revenue12m: 150_000, acquisitionCost: 10_000, cumulativeMargin: 10_000 });
    expect(decide(paid).alerts.map((a) => a.kind)).not.toContain('EARLY_TENURE_CANCELLATION');
  });
});

describe('deciding on a cancellation: respond-by and routing', () => {
  it.each([
    ['A', 612_000, 'P1', 24],
    ['B', 150_000, 'P2', 72],
    ['C', 30_000, 'P3', 7 * 24],
    ['D', 10_000, 'P4', 14 * 24],
  ] as const)('asks for a win-back of a tier %s customer at %s, within %s hours', (tier, revenue, priority, hours) => {
    const value = aB2bCustomer({ revenue12m: revenue, track: 'GROW' });
    const { decision } = decide(value, { reason: 'LIFE_CHANGE', effectiveAt: NOW + 60 * DAY });
    expect(decision.tier).toBe(tier);
    expect(decision.priority).toBe(priority);
    expect(decision.respondBy).toBe(NOW + hours * HOUR);
  });

  it('never asks to respond after the cancellation takes effect', () => {
    const { decision, tasks } = decide(tierB, { reason: 'LIFE_CHANGE', effectiveAt: NOW + 2 * HOUR });
    expect(decision.respondBy).toBe(NOW + 2 * HOUR);
    expect(tasks.every((t) => t.dueAt <= NOW + 2 * HOUR)).toBe(true);
  });

  it.each([
    ['a tier A-B account-managed customer', aB2bCustomer({ revenue12m: 150_000 }), 'owner:am-042'],
    [
      'a C-GROW customer with an inside-sales owner',
      aB2bCustomer({ revenue12m: 30_000, track: 'GROW', accountManager: 'is-9' }),
      'owner:is-9',
    ],
    ['a C-RETAIN business customer', aB2bCustomer({ revenue12m: 30_000, accountManager: 'is-9' }), 'inside-sales'],
    ['a consumer with no owner', aB2cCustomer({ revenue12m: 5_000 }), 'contact-center'],
    ['a D-RETAIN customer (automated program)', aB2cCustomer({ revenue12m: 300 }), 'automated'],
  ])('routes the first task for %s to %s', (_name, value, queue) => {
    const { tasks } = decide(value, { reason: 'NO_LONGER_NEEDED' });
    expect(tasks[0]?.queue).toBe(queue);
  });

  it('does not send a call to the automated queue', () => {
    const dRetain = aB2bCustomer({ revenue12m: 5_000, margin12m: -1 });
    const call = decide(dRetain).tasks.find((t) => t.kind === 'OFFBOARDING_CALL');
    expect(call?.queue).toBe('inside-sales');
  });
});

describe('deciding on a cancellation: explanations', () => {
  it('explains the decision in plain language an agent can read aloud', () => {
    const tierA = aB2bCustomer({ revenue12m: 612_000, acquisitionCost: 90_000, cumulativeMargin: 20_000 });
    const { decision } = decide(tierA, { reason: 'LIFE_CHANGE' });
    expect(decision.reasons[0]).toBe(
      'Revenue over the last 12 months is 612 000 DKK (tier A, RETAIN track); margin is 183 600 DKK.',
    );
    expect(decision.reasons.join(' ')).toContain('has not yet paid back its acquisition cost');
    expect(decision.reasons.join(' ')).toMatch(/Offering a pause: 60% chance to keep the customer/);
    expect(decision.reasons.at(-1)).toMatch(/^Respond by 2026-01-16 09:00 UTC \(P1\)\.$/);
  });

  it('records the policy version and the value snapshot it used', () => {
    const { decision } = decide(tierB);
    expect(decision.policyVersion).toBe('default-2026.11');
    expect(decision.value).toEqual(tierB);
    expect(decision.reason).toBe('PRICE');
  });

  it('refuses a cancellation for a customer whose profile it has not seen, for the dead-letter topic', () => {
    expect(() => decide(null, { reason: 'COMPETITOR' })).toThrow(
      expect.objectContaining({ code: 'CHURN_UNKNOWN_CUSTOMER', retriable: false }),
    );
    // Invoices alone give a value, but no profile: still unknown.
    expect(() => decide({ ...tierB, signedUpAt: null }, { reason: 'PRICE' })).toThrow(/profile has not been seen/);
  });

  it('emits records that satisfy their contracts, keyed by customer, caused by the cancellation', () => {
    for (const reason of CancellationReasonValues) {
      for (const value of [tierB, aB2bCustomer({ revenue12m: 612_000 }), aB2cCustomer({ revenue12m: 300 })]) {
        const { emit, event } = decide(value, { reason });
        for (const e of emit) {
          const record = {
            'churn.decisions.v1': 'ChurnDecision',
            'contact-center.tasks.v1': 'ContactTask',
            'churn.alerts.v1': 'ChurnAlert',
            'churn-learning.events': 'LearningEvent',
          } as const;
          expect(Object.keys(record)).toContain(e.topic);
          const topic = e.topic as keyof typeof record;
          expect(validateRecord(record[topic], e.value)).toMatchObject({ ok: true });
          // What the learning stage hears is keyed for its one partition, not by customer.
          if (topic === 'churn-learning.events') continue;
          expect(e.key).toBe('cust-0001');
          expect((e.value as { causationId: string }).causationId).toBe(event.eventId);
        }
      }
    }
  });
});

describe('deciding on a cancellation: what the pipeline has learned', () => {
  const policy = learningPolicy;
  const prior = (reason: CancellationReason, offer: string) =>
    policy.tables.offersByReason[reason].find((o) => o.offer === offer)?.probability as number;
  const cohort = cohortOf(policy, tierB);
  const snapshotWith = (saves: number, tries: number, inCohort = cohort): LearningSnapshot =>
    aLearningSnapshot({
      at: Math.floor(NOW / DAY) * DAY,
      saves: [{ reason: 'LIFE_CHANGE', offer: 'PAUSE', cohort: inCohort, saves, tries }],
    });
  const pauseOf = (learned: LearningSnapshot) =>
    decide(tierB, { reason: 'LIFE_CHANGE' }, { policy, learned }).decision.offersWeighed.find(
      (o) => o.offer === 'PAUSE',
    );

  it('uses the prior when nothing has been observed, and says where each probability came from', () => {
    const { decision } = decide(tierB, { reason: 'LIFE_CHANGE' }, { policy, learned: aLearningSnapshot() });
    for (const o of decision.offersWeighed) {
      expect(o.prior).toBe(prior('LIFE_CHANGE', o.offer));
      expect(o.probability).toBeCloseTo(o.prior as number, 10);
      expect([o.observedSaves, o.observedTries, o.cohortMultiplier]).toEqual([0, 0, 1]);
    }
    expect(decision.learnedAsOf).toBe(Math.floor(NOW / DAY) * DAY);
    expect(decision.cohort).toBe(cohort);
    expect(decision.reasons.join(' ')).toContain('no outcomes of it for this reason yet');
  });

  it('stays near the prior with few outcomes and follows the evidence with many (Beta-Binomial)', () => {
    const p0 = prior('LIFE_CHANGE', 'PAUSE');
    const observed = p0 / 2;
    const few = pauseOf(snapshotWith(1, 2));
    const many = pauseOf(snapshotWith(Math.round(observed * 4000), 4000));
    const strength = policy.learning.saveRates.priorStrength;
    // The reason and offer's own rate, before the cohort's response.
    expect((few?.probability as number) / (few?.cohortMultiplier as number)).toBeCloseTo(
      blendRate(p0, strength, 1, 2),
      10,
    );
    expect(Math.abs((few?.probability as number) - p0)).toBeLessThan(Math.abs((many?.probability as number) - p0));
    expect((many?.probability as number) / (many?.cohortMultiplier as number)).toBeCloseTo(observed, 2);
    expect(many).toMatchObject({ observedSaves: Math.round(observed * 4000), observedTries: 4000 });
  });

  it('ranks a cohort that responds better above one that responds worse', () => {
    const other = aB2bCustomer({ revenue12m: 150_000, tenureDays: 1_500, lastNps: 2 });
    const otherCohort = cohortOf(policy, other);
    expect(otherCohort).not.toBe(cohort);
    const learned = aLearningSnapshot({
      saves: [
        { reason: 'LIFE_CHANGE', offer: 'PAUSE', cohort, saves: 180, tries: 200 },
        { reason: 'LIFE_CHANGE', offer: 'PAUSE', cohort: otherCohort, saves: 20, tries: 200 },
      ],
    });
    const good = decide(tierB, { reason: 'LIFE_CHANGE' }, { policy, learned }).decision.offersWeighed[0];
    const poor = decide(other, { reason: 'LIFE_CHANGE' }, { policy, learned }).decision.offersWeighed[0];
    expect(good?.cohortMultiplier as number).toBeGreaterThan(1);
    expect(poor?.cohortMultiplier as number).toBeLessThan(1);
    expect(good?.probability as number).toBeGreaterThan(poor?.probability as number);
  });

  it('values a cohort that leaves faster lower, and explains the hazard in its reasons', () => {
    const months = 50_000;
    const fast = aLearningSnapshot({ exposures: [{ cohort, cancellations: months * 0.06, exposureMonths: months }] });
    const slow = aLearningSnapshot({ exposures: [{ cohort, cancellations: months * 0.005, exposureMonths: months }] });
    const a = decide(tierB, { reason: 'PRICE' }, { policy, learned: fast }).decision;
    const b = decide(tierB, { reason: 'PRICE' }, { policy, learned: slow }).decision;
    expect(a.monthlyChurnHazard as number).toBeGreaterThan(policy.value.monthlyChurnRate);
    expect(b.monthlyChurnHazard as number).toBeLessThan(policy.value.monthlyChurnRate);
    expect(a.value.remainingLifetimeValue).toBeLessThan(tierB.remainingLifetimeValue);
    expect(b.value.remainingLifetimeValue).toBeGreaterThanOrEqual(tierB.remainingLifetimeValue);
    // Remaining months never pass the policy's cap.
    expect(b.value.remainingLifetimeValue / tierB.remainingLifetimeValue).toBeLessThanOrEqual(
      policy.value.remainingMonthsCap / Math.min(policy.value.remainingMonthsCap, 1 / policy.value.monthlyChurnRate) +
        1e-9,
    );
    expect(a.reasons.join(' ')).toMatch(/leave about [\d.]+% a month here, against the policy's/);
  });

  it('ignores a snapshot when the policy does not learn', () => {
    const { decision } = decide(
      tierB,
      { reason: 'LIFE_CHANGE' },
      { policy: defaultPolicyOff(), learned: snapshotWith(0, 500) },
    );
    expect(decision.offersWeighed[0]?.probability).toBe(prior('LIFE_CHANGE', 'PAUSE'));
    expect([decision.learnedAsOf, decision.cohort, decision.monthlyChurnHazard]).toEqual([null, null, null]);
  });
});

function defaultPolicyOff(): Policy {
  return loadPolicy(mergeDocuments(defaultPolicyDocument, { learning: { enabled: false } }));
}

describe('deciding on a cancellation: experiments and shadow policies', () => {
  const generous = { version: 'generous-1', offers: { PRICE: { DOWNGRADE: { probability: 0.9 } } } };
  const withExperiment = loadPolicy(
    mergeDocuments(defaultPolicyDocument, {
      experiment: {
        name: 'price-2026',
        arms: [
          { name: 'control', share: 0.5 },
          { name: 'generous', share: 0.5, overrides: generous },
        ],
      },
    }),
  );

  it('puts a customer in the same arm every time, and splits customers by the shares', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `cust-${i}`);
    const arms = ids.map((id) => armOf(withExperiment, id)?.name);
    expect(ids.map((id) => armOf(withExperiment, id)?.name)).toEqual(arms);
    const share = arms.filter((a) => a === 'generous').length / ids.length;
    expect(Math.abs(share - 0.5)).toBeLessThan(0.03);
  });

  it("decides with the arm's policy and records the arm and its version", () => {
    for (const id of ['cust-1', 'cust-2', 'cust-3', 'cust-4', 'cust-5', 'cust-6']) {
      const customer = aB2bCustomer({ customerId: id, revenue12m: 150_000, tenureDays: 1_500 });
      const arm = armOf(withExperiment, id);
      const { decision } = decide(customer, { reason: 'PRICE' }, { policy: withExperiment });
      expect(decision.arm).toBe(arm?.name);
      expect(decision.policyVersion).toBe(arm?.policy.version);
      const downgrade = decision.offersWeighed.find((o) => o.offer === 'DOWNGRADE');
      expect(downgrade?.probability).toBe(
        arm?.policy.tables.offersByReason.PRICE.find((o) => o.offer === 'DOWNGRADE')?.probability,
      );
    }
  });

  it('lets a shadow policy decide alongside, publishing only its decision', () => {
    const shadowed = loadPolicy(mergeDocuments(defaultPolicyDocument, { shadow: { overrides: generous } }));
    const plain = decide(tierB, { reason: 'PRICE' });
    const both = decide(tierB, { reason: 'PRICE' }, { policy: shadowed });
    const shadows = both.emit.filter((e) => e.topic === 'churn.decisions.shadow.v1');
    expect(shadows).toHaveLength(1);
    const shadow = shadows[0]?.value as ChurnDecision;
    expect(shadow.policyVersion).toBe('generous-1');
    expect(validateRecord('ChurnDecision', shadow)).toMatchObject({ ok: true });
    expect(shadow.eventId).not.toBe(both.decision.eventId);
    // Everything else is what the policy alone gives.
    expect(both.emit.filter((e) => e.topic !== 'churn.decisions.shadow.v1')).toEqual(plain.emit);
  });
});

describe('deciding on a cancellation: determinism', () => {
  it('gives byte-identical outputs when the same cancellation is reprocessed from the same state', () => {
    const a = decide(tierB, { reason: 'SERVICE_ISSUE' });
    const b = decide(tierB, { reason: 'SERVICE_ISSUE' });
    expect(JSON.stringify(b.emit)).toBe(JSON.stringify(a.emit));
    const ids = a.emit.map((e) => e.value.eventId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('changes nothing when the same cancellation is processed twice', () => {
    const first = decide(tierB);
    const second = decideOnCancellation(first.event, first.state, aContext({ now: NOW + HOUR }));
    expect(second.emit).toEqual([]);
    expect(second.state).toEqual(first.state);
  });

  it('joins the newest customer value snapshot and ignores an older one', () => {
    const ctx = aContext();
    const newer = aB2bCustomer({ revenue12m: 200_000, asOf: NOW });
    const older = aB2bCustomer({ revenue12m: 50_000, asOf: NOW - DAY });
    const s1 = decideOnCancellation(newer, undefined, ctx).state;
    const s2 = decideOnCancellation(older, s1, ctx).state;
    expect(s2.value).toEqual(newer);
  });
});

describe('deciding on a cancellation, for any customer', () => {
  const anyCustomer = fc
    .record({
      b2b: fc.boolean(),
      revenue: fc.integer({ min: 0, max: 2_000_000 }),
      margin: fc.integer({ min: -500_000, max: 1_000_000 }),
      rlv: fc.integer({ min: -1_000_000, max: 5_000_000 }),
      tenureDays: fc.integer({ min: 0, max: 5_000 }),
      track: fc.constantFrom('GROW', 'RETAIN' as const),
      owner: fc.option(fc.constantFrom('am-1', 'am-2')),
    })
    .map((c) =>
      (c.b2b ? aB2bCustomer : aB2cCustomer)({
        revenue12m: c.revenue,
        margin12m: c.margin,
        remainingLifetimeValue: c.rlv,
        tenureDays: c.tenureDays,
        track: c.track,
        accountManager: c.owner,
      }),
    );
  const anyReason = fc.constantFrom(...CancellationReasonValues);
  const anyEffective = fc.option(fc.integer({ min: -10 * DAY, max: 60 * DAY }));

  it('never offers a discount, pause or bonus when margin12m <= 0', () => {
    fc.assert(
      fc.property(anyCustomer, anyReason, (value, reason) => {
        fc.pre(value.margin12m <= 0);
        const { decision, tasks } = decide(value, { reason });
        const forbidden = ['PAUSE', 'DOWNGRADE', 'LOYALTY_BONUS', 'PAYMENT_PLAN'];
        expect(forbidden).not.toContain(decision.offer);
        for (const t of tasks) expect(forbidden).not.toContain(t.offer);
        expect(decision.action).toBe('GRACEFUL_OFFBOARDING');
      }),
    );
  });

  it('never gives an offer whose cost exceeds the remaining lifetime value a positive expected value', () => {
    fc.assert(
      fc.property(anyCustomer, anyReason, (value, reason) => {
        for (const w of weighOffers(defaultPolicy, value, reason)) {
          if (w.cost > value.remainingLifetimeValue) expect(w.expectedValue).toBeLessThanOrEqual(0);
        }
      }),
    );
  });

  it('never asks to respond after the effective date', () => {
    fc.assert(
      fc.property(anyCustomer, anyReason, anyEffective, (value, reason, offset) => {
        const effectiveAt = offset === null ? null : NOW + offset;
        const { decision, tasks } = decide(value, { reason, effectiveAt });
        if (effectiveAt !== null) {
          expect(decision.respondBy).toBeLessThanOrEqual(effectiveAt);
          for (const t of tasks) expect(t.dueAt).toBeLessThanOrEqual(effectiveAt);
        }
      }),
    );
  });

  it('changes nothing when the same cancellation is processed twice', () => {
    fc.assert(
      fc.property(anyCustomer, anyReason, (value, reason) => {
        const first = decide(value, { reason });
        const again = decideOnCancellation(first.event, first.state, aContext());
        expect(again.emit).toEqual([]);
        expect(again.state).toEqual(first.state);
      }),
    );
  });
});

describe('saying money aloud', () => {
  it.each([
    [0, '0 DKK'],
    [99_900, '999 DKK'],
    [100_000, '1 000 DKK'],
    [61_200_000, '612 000 DKK'],
    [100_500_000, '1 005 000 DKK'],
    [123_456_789_000, '1 234 567 890 DKK'],
    [-18_360_000, '-183 600 DKK'],
    [150, '2 DKK'],
  ])('says %d minor units as %s', (minor, text) => {
    expect(formatMoney(minor, 'DKK', 100)).toBe(text);
  });
});
