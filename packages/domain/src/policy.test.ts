import { ChurnError } from '@churn/contracts';
import { describe, expect, it } from 'vitest';
import { keepCustomerValue, tierOf } from './customer-value.ts';
import { decideOnCancellation } from './decision.ts';
import { graceOf } from './follow-up.ts';
import { loadPolicy, type Policy } from './policy.ts';
import { detectStructuralIssues, type StructuralIssueState, structuralMark } from './structural-issues.ts';
import {
  aB2bCustomer,
  aCancellationOf,
  aContext,
  anInvoiceOf,
  DAY,
  defaultPolicy,
  defaultPolicyDocument,
  FIXTURE_NOW,
  HOUR,
  ORE,
} from './testing/index.ts';

type Doc = Record<string, unknown>;

function withChange(change: (doc: Doc) => void): unknown {
  const doc = structuredClone(defaultPolicyDocument) as Doc;
  change(doc);
  return doc;
}

function problemOf(json: unknown): string {
  try {
    loadPolicy(json);
  } catch (error) {
    expect(error).toBeInstanceOf(ChurnError);
    expect((error as ChurnError).code).toBe('CHURN_CONFIG_INVALID');
    return (error as Error).message;
  }
  throw new Error('the policy loaded');
}

const at = (doc: Doc, path: string): Doc => path.split('.').reduce((d, k) => d[k] as Doc, doc);

describe('the policy file', () => {
  it('loads the default policy with its version', () => {
    expect(defaultPolicy.version).toBe('default-2026.11');
  });

  it('is frozen once loaded', () => {
    expect(Object.isFrozen(defaultPolicy)).toBe(true);
    expect(Object.isFrozen(defaultPolicy.offers.PRICE)).toBe(true);
    expect(() => {
      (defaultPolicy as { contactCost: number }).contactCost = 0;
    }).toThrow();
  });

  it.each([
    [
      'a probability above 1',
      (d: Doc) => (at(d, 'offers.PRICE.DOWNGRADE').probability = 1.5),
      'offers.PRICE.DOWNGRADE.probability: must be between 0 and 1',
    ],
    ['a negative contact cost', (d: Doc) => (d.contactCost = -1), 'contactCost: must be 0 or more'],
    ['a missing version', (d: Doc) => delete d.version, 'version:'],
    [
      'tier thresholds out of order',
      (d: Doc) => (at(d, 'tiers.B2B').C = 900_000),
      'tiers.B2B: thresholds must satisfy A >= B >= C',
    ],
    [
      'an unknown priority',
      (d: Doc) => (at(d, 'decision.winBackPriority').A = 'P0'),
      'decision.winBackPriority.A: must be one of P1, P2, P3, P4',
    ],
    ['an unknown key', (d: Doc) => (d.surprise = 1), 'surprise'],
    ['a zero churn rate', (d: Doc) => (at(d, 'value').monthlyChurnRate = 0), 'value.monthlyChurnRate'],
    ['a missing program entry', (d: Doc) => delete at(d, 'program')['B-GROW'], 'program.B-GROW'],
  ])('refuses %s, naming the bad key', (_name, change, message) => {
    expect(problemOf(withChange(change))).toContain(message);
  });

  it('names every bad key at once', () => {
    const message = problemOf(
      withChange((d) => {
        d.contactCost = -1;
        at(d, 'offers.LIFE_CHANGE.PAUSE').probability = 2;
      }),
    );
    expect(message).toContain('contactCost');
    expect(message).toContain('offers.LIFE_CHANGE.PAUSE.probability');
  });

  it('changes decisions without a code change: a policy that makes pauses free of contact cost and certain', () => {
    const policy: Policy = loadPolicy(
      withChange((d) => {
        at(d, 'offers.NO_LONGER_NEEDED.PAUSE').probability = 1;
        d.version = 'test-1';
      }),
    );
    const value = aB2bCustomer({ revenue12m: 150_000 });
    const result = decideOnCancellation(
      aCancellationOf(value, { reason: 'NO_LONGER_NEEDED' }),
      { value, decided: [] },
      aContext({ policy }),
    );
    const decision = result.emit[0]!.value as { policyVersion: string; offersWeighed: { probability: number }[] };
    expect(decision.policyVersion).toBe('test-1');
    expect(decision.offersWeighed[0]?.probability).toBe(1);
  });
});

describe('the policy drives the rules, not the code', () => {
  const policyWith = (change: (doc: Doc) => void) => loadPolicy(withChange(change));

  it('moves tier thresholds', () => {
    const policy = policyWith((d) => (at(d, 'tiers.B2B').A = 1_000_000));
    expect(tierOf(defaultPolicy, 'B2B', 600_000 * ORE, 'DKK')).toBe('A');
    expect(tierOf(policy, 'B2B', 600_000 * ORE, 'DKK')).toBe('B');
  });

  it('moves the default gross margin rate', () => {
    const policy = policyWith((d) => (at(d, 'value').defaultGrossMarginRate = 0.5));
    const invoice = anInvoiceOf({ amount: 10_000, costToServe: null });
    const value = keepCustomerValue(invoice, undefined, aContext({ policy, now: invoice.occurredAt })).emit[0]?.value;
    expect(value).toMatchObject({ margin12m: 5_000 * ORE });
  });

  it('moves respond-by windows', () => {
    const policy = policyWith((d) => (at(d, 'respondWithinHours').P2 = 48));
    const value = aB2bCustomer({ revenue12m: 150_000 });
    const event = aCancellationOf(value, { reason: 'LIFE_CHANGE', effectiveAt: null });
    const decision = decideOnCancellation(event, { value, decided: [] }, aContext({ policy })).emit[0]?.value;
    expect(decision).toMatchObject({ priority: 'P2', respondBy: FIXTURE_NOW + 48 * HOUR });
  });

  it('moves the grace period', () => {
    const policy = policyWith((d) => (at(d, 'grace').minDays = 5));
    expect(graceOf(policy, 7 * DAY)).toBe(5 * DAY);
  });

  it('moves the structural-issue threshold', () => {
    const policy = policyWith((d) => (at(d, 'structural').minCustomers = 3));
    let state: StructuralIssueState | undefined;
    const alerts: unknown[] = [];
    const cancellations = [1, 2, 3].map((c) =>
      aCancellationOf({ customerId: `c-${c}` }, { reason: 'SERVICE_ISSUE', occurredAt: FIXTURE_NOW + c * DAY }),
    );
    // The count takes cancellations once the (one) source partition has passed them.
    for (const event of [...cancellations, structuralMark('SERVICE_ISSUE', 0, 1, FIXTURE_NOW + 5 * DAY)]) {
      const result = detectStructuralIssues(event, state, aContext({ policy, now: event.occurredAt }));
      state = result.state;
      alerts.push(...result.emit);
    }
    expect(alerts).toHaveLength(1);
  });
});
