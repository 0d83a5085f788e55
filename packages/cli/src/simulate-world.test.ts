import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CancellationRequested, ChurnDecision, InvoiceEvent, SurveyResult } from '@churn/contracts';
import { CancellationReasonValues } from '@churn/contracts';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { Random } from './generate.ts';
import { formatLine, type OfflineEvent, parseLine } from './offline.ts';
import { replay } from './replay.ts';
import {
  allCohorts,
  type Cohort,
  cohortKey,
  cohortOfValue,
  DAY,
  drawFate,
  MONTH,
  outcomeKindOf,
  pairKey,
  type SimCancellation,
  tenureBandOf,
  trueHazard,
  trueSaveRate,
  World,
  worldParameters,
} from './simulate-world.ts';

const policy = loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Runs a world without a pipeline: every cancellation's fate is `saved(c)`, settled as soon as it is drawn. */
function openLoop(seed: number, customers: number, months: number, saved: (c: SimCancellation) => boolean) {
  const world = new World(worldParameters(seed, policy), { customers, months });
  const events: OfflineEvent[] = [];
  const cancellations: SimCancellation[] = [];
  for (let k = 0; k < months; k++) {
    for (const c of world.month(k)) {
      world.settle(c, saved(c));
      cancellations.push(c);
    }
    events.push(...world.drain(world.monthStart(k + 1)));
  }
  return { world, events, cancellations };
}

const at = (e: OfflineEvent) => (e.value as { occurredAt: number }).occurredAt;

describe('the simulated world', () => {
  it('is the same world, with the same events, for the same seed, and another for another seed', () => {
    expect(worldParameters(5, policy)).toEqual(worldParameters(5, policy));
    expect(worldParameters(5, policy).saveRates).not.toEqual(worldParameters(6, policy).saveRates);
    expect(worldParameters(5, policy).hazards).not.toEqual(worldParameters(6, policy).hazards);
    const alwaysSaved = () => true;
    const a = openLoop(5, 40, 6, alwaysSaved);
    const b = openLoop(5, 40, 6, alwaysSaved);
    const c = openLoop(6, 40, 6, alwaysSaved);
    expect(JSON.stringify(a.events)).toBe(JSON.stringify(b.events));
    expect(JSON.stringify(a.events)).not.toBe(JSON.stringify(c.events));
  });

  it('has true save rates above and below the policy priors, per seed', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const world = worldParameters(seed, policy);
      let above = 0;
      let below = 0;
      for (const reason of CancellationReasonValues) {
        for (const offer of policy.tables.offersByReason[reason]) {
          for (const cohort of allCohorts) {
            const p = trueSaveRate(world, reason, offer.offer, cohort);
            if (p > offer.probability) above++;
            if (p < offer.probability) below++;
          }
        }
      }
      expect(above).toBeGreaterThan(0);
      expect(below).toBeGreaterThan(0);
      // At the level of reason and offer too: some pairs do better than their prior, some worse.
      const factors = world.policyPairs.map((pair) => world.pairFactors[pair] as number);
      expect(factors.some((f) => f > 1)).toBe(true);
      expect(factors.some((f) => f < 1)).toBe(true);
      for (const pair of world.policyPairs) {
        const [reason, offer] = pair.split('/');
        const prior = policy.tables.offersByReason[reason as 'PRICE'].find((o) => o.offer === offer)?.probability;
        expect(world.priors[pair]).toBe(prior);
      }
    }
  });

  it('makes save rates and churn depend on the cohort as its structure says, whatever the seed', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const world = worldParameters(seed, policy);
      for (const segment of ['B2B', 'B2C'] as const) {
        for (const tenure of ['NEW', 'ESTABLISHED', 'LONG'] as const) {
          const of = (nps: Cohort['nps']): Cohort => ({ segment, nps, tenure });
          // Detractors respond less to a loyalty bonus than promoters.
          expect(trueSaveRate(world, 'COMPETITOR', 'LOYALTY_BONUS', of('DETRACTOR'))).toBeLessThan(
            trueSaveRate(world, 'COMPETITOR', 'LOYALTY_BONUS', of('PROMOTER')),
          );
          // Detractors and silent customers leave faster than promoters.
          expect(trueHazard(world, of('DETRACTOR'))).toBeGreaterThan(trueHazard(world, of('PROMOTER')));
          expect(trueHazard(world, of('SILENT'))).toBeGreaterThan(trueHazard(world, of('PROMOTER')));
        }
      }
      const hazards = Object.values(world.hazards);
      expect(hazards.some((h) => h > policy.value.monthlyChurnRate)).toBe(true);
      expect(hazards.some((h) => h < policy.value.monthlyChurnRate)).toBe(true);
      expect(trueSaveRate(world, 'PRICE', 'NONE', allCohorts[0] as Cohort)).toBe(0);
    }
  });

  it('writes events that keep the contracts, keyed by customer, with UUID event ids, in time order', () => {
    const { events, cancellations } = openLoop(3, 60, 8, (c) => c.customerIndex % 2 === 0);
    expect(cancellations.length).toBeGreaterThan(0);
    const topics = new Set(events.map((e) => e.topic));
    expect([...topics].sort()).toEqual([
      'billing.invoices.v1',
      'customer.cancellations.v1',
      'customer.profiles.v1',
      'customer.surveys.v1',
    ]);
    const ids = new Set<string>();
    for (const e of events) {
      const parsed = parseLine(formatLine(e));
      expect(parsed, JSON.stringify(parsed)).toMatchObject({ ok: true });
      const value = e.value as { customerId: string; eventId: string };
      expect(e.key).toBe(value.customerId);
      expect(value.eventId).toMatch(UUID);
      ids.add(value.eventId);
    }
    expect(ids.size).toBe(events.length);
    const times = events.map(at);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });

  it('stops invoicing a customer who is not saved once the cancellation takes effect, and keeps invoicing one who is', () => {
    const months = 12;
    const lost = openLoop(4, 80, months, () => false);
    expect(lost.cancellations.length).toBeGreaterThan(0);
    for (const c of lost.cancellations) {
      const later = lost.events.filter((e) => e.key === c.customerId && at(e) >= c.effectiveAt);
      const issued = later.filter(
        (e) => e.topic === 'billing.invoices.v1' && (e.value as InvoiceEvent).status === 'ISSUED',
      );
      expect(issued).toEqual([]);
      expect(later.filter((e) => e.topic !== 'billing.invoices.v1')).toEqual([]);
      expect(lost.cancellations.filter((d) => d.customerId === c.customerId)).toHaveLength(1);
    }
    const kept = openLoop(4, 80, months, () => true);
    const end = kept.world.monthStart(months);
    const longAfter = kept.cancellations.filter((c) => c.effectiveAt + MONTH < end);
    expect(longAfter.length).toBeGreaterThan(0);
    for (const c of longAfter) {
      const issued = kept.events.filter(
        (e) =>
          e.key === c.customerId &&
          e.topic === 'billing.invoices.v1' &&
          (e.value as InvoiceEvent).status === 'ISSUED' &&
          at(e) >= c.effectiveAt,
      );
      expect(issued.length).toBeGreaterThan(0);
    }
  });

  it('answers NPS surveys by the cohort the truth is keyed on: the pipeline sees the same cohort', async () => {
    const { world, events, cancellations } = openLoop(8, 120, 10, () => true);
    const surveys = events.filter((e) => e.topic === 'customer.surveys.v1').map((e) => e.value as SurveyResult);
    expect(surveys.some((s) => s.status === 'UNANSWERED')).toBe(true);
    expect(surveys.every((s) => s.kind === 'NPS' && (s.score === null) === (s.status === 'UNANSWERED'))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'simulate-world-'));
    const path = join(dir, 'world.jsonl');
    writeFileSync(path, `${events.map(formatLine).join('\n')}\n`);
    const decisions = new Map<string, ChurnDecision>();
    await replay(
      path,
      { policy },
      (r) => {
        if (r.topic === 'churn.decisions.v1')
          decisions.set((r.value as ChurnDecision).causationId, r.value as ChurnDecision);
      },
      () => {},
    );
    expect(decisions.size).toBe(cancellations.length);
    const seenNps = new Set<string>();
    for (const c of cancellations) {
      const value = (decisions.get(c.eventId) as ChurnDecision).value;
      const seen = cohortOfValue(value, world.parameters.silentAfter);
      expect(seen.segment).toBe(c.cohort.segment);
      expect(seen.nps).toBe(c.cohort.nps);
      seenNps.add(seen.nps);
      // The snapshot's tenure is as of its newest event, a few days before the cancellation at most.
      const customer = world.customers[c.customerIndex];
      const asOfBand = tenureBandOf(Math.floor((value.asOf - (customer?.signedUpAt ?? 0)) / DAY));
      if (asOfBand === c.cohort.tenure) expect(seen.tenure).toBe(c.cohort.tenure);
    }
    expect(seenNps.size).toBeGreaterThan(1);
    const cancelled = events.filter((e) => e.topic === 'customer.cancellations.v1');
    expect(cancelled.map((e) => (e.value as CancellationRequested).eventId).sort()).toEqual(
      cancellations.map((c) => c.eventId).sort(),
    );
  });
});

describe('the outcome draw', () => {
  it('saves with the true probability among the customers reached, and misses the no-contact share', () => {
    const rng = new Random(11);
    const n = 20_000;
    const p = 0.37;
    const noContact = 0.05;
    const fates = Array.from({ length: n }, () => drawFate(rng, p, noContact));
    const share = (f: string) => fates.filter((x) => x === f).length / n;
    // Within four standard errors of what the draw promises.
    const within = (observed: number, expected: number) =>
      expect(Math.abs(observed - expected)).toBeLessThan(4 * Math.sqrt((expected * (1 - expected)) / n));
    within(share('NO_CONTACT'), noContact);
    within(share('SAVED'), (1 - noContact) * p);
    within(share('LOST'), (1 - noContact) * (1 - p));
    expect(Array.from({ length: 100 }, () => drawFate(rng, 0, 0)).every((f) => f === 'LOST')).toBe(true);
    expect(Array.from({ length: 100 }, () => drawFate(rng, 1, 0)).every((f) => f === 'SAVED')).toBe(true);
  });

  it('reports a saved customer as paused, downgraded or retained by the offer, and a lost one as lost', () => {
    expect(outcomeKindOf('SAVED', 'PAUSE')).toBe('PAUSED');
    expect(outcomeKindOf('SAVED', 'DOWNGRADE')).toBe('DOWNGRADED');
    expect(outcomeKindOf('SAVED', 'LOYALTY_BONUS')).toBe('RETAINED');
    expect(outcomeKindOf('SAVED', 'ACCOUNT_MANAGER_MEETING')).toBe('RETAINED');
    expect(outcomeKindOf('LOST', 'PAUSE')).toBe('LOST');
    expect(outcomeKindOf('NO_CONTACT', 'PAUSE')).toBe('NO_CONTACT');
  });

  it('gives every cohort and reason/offer pair its own key', () => {
    const keys = new Set(allCohorts.map(cohortKey));
    expect(keys.size).toBe(allCohorts.length);
    expect(pairKey('PRICE', 'DOWNGRADE')).toBe('PRICE/DOWNGRADE');
  });
});
