/**
 * The services together, as production wires them: every service's topology (the
 * `topology.ts` of each service, gathered in `allTopologies`) run by the in-process runner
 * through `replay`, the engine of `churnctl replay` and `npm start`. Each service keeps the
 * customer's value itself from the raw events. A whole history, replayed, gives
 * byte-identical outputs; delivered twice, it gives the same outputs once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ChurnAlert,
  type ChurnDecision,
  type ContactTask,
  type CustomerValue,
  isTopicName,
  parseRecord,
  type RecordName,
  recordOfTopic,
} from '@churn/contracts';
import { aCustomerProfile, aSurveyResult } from '@churn/contracts/testing';
import { deriveId, formatMoney, loadPolicy, minorUnitsOf, tierOf } from '@churn/domain';
import { aCancellationOf, anInvoiceOf, DAY, FIXTURE_NOW, ORE } from '@churn/domain/testing';
import { DEFAULT_POLICY_FILE, type OutputRecord, readJsonFile } from '@churn/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OfflineEvent } from './offline.ts';
import { type DeadLine, replay } from './replay.ts';
import { allTopologies } from './topologies.ts';

const T0 = FIXTURE_NOW;
const CUSTOMER = 'cust-0001';
const policy = loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));

/** The record of each topic the pipeline writes: the contracts' topics and the services' internal ones. */
const internalRecords = new Map<string, RecordName>(
  allTopologies(policy).flatMap((t) => (t.internalTopics ?? []).map((i) => [i.topic, i.record] as const)),
);
function recordOf(topic: string): RecordName {
  const record = isTopicName(topic) ? recordOfTopic(topic) : internalRecords.get(topic);
  if (record === undefined) throw new Error(`${topic} is neither a topic of the contracts nor an internal one`);
  return record;
}

/** Replays the events through every topology, the clock following event time and moved on to `until`. */
async function run(events: readonly OfflineEvent[], until: number): Promise<OutputRecord[]> {
  const path = join(mkdtempSync(join(tmpdir(), 'churn-pipeline-')), 'in.jsonl');
  writeFileSync(path, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const outputs: OutputRecord[] = [];
  const dead: DeadLine[] = [];
  await replay(
    path,
    { policy, until },
    (record) => {
      outputs.push(record);
    },
    (_line, d) => {
      dead.push(d);
    },
  );
  expect(dead).toEqual([]);
  return outputs;
}

const profile = aCustomerProfile({
  eventId: deriveId('profile', CUSTOMER),
  customerId: CUSTOMER,
  segment: 'B2B',
  occurredAt: T0 - 400 * DAY,
  signedUpAt: T0 - 400 * DAY,
  potential: 'GROW',
  acquisitionCost: 250_000 * ORE,
  accountManager: 'am-7',
  executiveSponsor: 'exec-2',
});
const invoices = Array.from({ length: 12 }, (_, i) =>
  anInvoiceOf({
    customerId: CUSTOMER,
    invoiceId: `inv-${i}`,
    issuedAt: T0 - (340 - i * 30) * DAY,
    amount: 51_000,
    costToServe: 35_700,
  }),
);
const overdue = anInvoiceOf({
  customerId: CUSTOMER,
  invoiceId: 'inv-11',
  issuedAt: invoices[11]!.issuedAt,
  status: 'OVERDUE',
  occurredAt: T0 - 2 * DAY,
  amount: 51_000,
});
const detractor = aSurveyResult({
  eventId: deriveId('survey', 'nps-1'),
  customerId: CUSTOMER,
  surveyId: 'nps-1',
  kind: 'NPS',
  score: 3,
  occurredAt: T0 - DAY,
});
const cancellation = aCancellationOf(
  { customerId: CUSTOMER },
  { reason: 'COMPETITOR', occurredAt: T0, effectiveAt: T0 + 10 * DAY },
);
const history: OfflineEvent[] = [
  { topic: 'customer.profiles.v1', key: CUSTOMER, value: profile },
  ...[...invoices, overdue].map((value) => ({ topic: 'billing.invoices.v1' as const, key: CUSTOMER, value })),
  { topic: 'customer.surveys.v1', key: CUSTOMER, value: detractor },
  { topic: 'customer.cancellations.v1', key: CUSTOMER, value: cancellation },
];
/** A month after the cancellation: due follow-ups and overdue dialogues have come. */
const UNTIL = T0 + 30 * DAY;

describe('the services together', () => {
  let outputs: OutputRecord[] = [];
  beforeAll(async () => {
    outputs = await run(history, UNTIL);
  });
  const of = <T>(topic: string) => outputs.filter((o) => o.topic === topic).map((o) => o.value as T);

  it('decides on a cancellation with the value kept from the invoices', () => {
    const decisions = of<ChurnDecision>('churn.decisions.v1');
    expect(decisions).toHaveLength(1);
    const decision = decisions[0] as ChurnDecision;
    // Every monthly invoice of the last 12 months, issued once; the overdue one is the last again.
    const revenue = invoices.reduce((sum, i) => sum + i.amount, 0);
    const margin = invoices.reduce((sum, i) => sum + i.amount - (i.costToServe ?? 0), 0);
    const tier = tierOf(policy, 'B2B', revenue, 'DKK');
    expect(decision.value).toMatchObject({
      customerId: CUSTOMER,
      revenue12m: revenue,
      margin12m: margin,
      tier,
      track: 'GROW',
      overdueInvoices: 1,
      executiveSponsor: 'exec-2',
    });
    // The decision service keeps the value itself: it is the one the customer-value service
    // published last before the decision (the remaining lifetime value is the decision's estimate).
    const decidedAt = outputs.findIndex((o) => o.topic === 'churn.decisions.v1');
    const published = outputs
      .slice(0, decidedAt)
      .filter((o) => o.topic === 'churn.customer-value.v1')
      .map((o) => o.value as CustomerValue)
      .at(-1);
    const { remainingLifetimeValue: _estimate, ...kept } = decision.value;
    expect(published).toMatchObject(kept);
    const money = (minor: number) => formatMoney(minor, 'DKK', minorUnitsOf(policy, 'DKK'));
    expect(decision.reasons[0]).toContain(money(revenue));
    expect(decision.reasons[0]).toContain(money(margin));
    expect(decision.reasons[0]).toContain(`tier ${tier}, GROW track`);
    // A tier that always gets a personal dialogue, leaving for a reason that escalates: a
    // win-back with the executive sponsor involved.
    expect(policy.tables.humanDialogueTiers.has(tier)).toBe(true);
    expect(policy.tables.escalationReasons.has(cancellation.reason)).toBe(true);
    expect(decision).toMatchObject({
      action: 'WIN_BACK',
      offer: 'EXECUTIVE_ESCALATION',
      tier,
      track: 'GROW',
      causationId: cancellation.eventId,
    });
    expect(of<ContactTask>('contact-center.tasks.v1')).toContainEqual(
      expect.objectContaining({ causationId: cancellation.eventId, queue: 'owner:exec-2' }),
    );
  });

  it('raises every signal the history calls for', () => {
    const kinds = [
      ...of<ContactTask>('contact-center.tasks.v1').map((t) => t.kind),
      ...of<ChurnAlert>('churn.alerts.v1').map((a) => a.kind),
    ];
    expect(kinds).toEqual(
      expect.arrayContaining([
        'PAYMENT_FOLLOW_UP',
        'PAYMENT_RISK',
        'SERVICE_RECOVERY',
        'HIGH_VALUE_DETRACTOR',
        'FOLLOW_UP',
        'DIALOGUE_OVERDUE',
        'HIGH_VALUE_AT_RISK',
        'EARLY_TENURE_CANCELLATION',
      ]),
    );
  });

  it('emits only records that parse against their contracts', () => {
    expect(outputs.length).toBeGreaterThan(0);
    for (const o of outputs) expect(() => parseRecord(recordOf(o.topic), o.value), o.topic).not.toThrow();
  });

  it('gives byte-identical outputs when the history is replayed', async () => {
    expect(JSON.stringify(await run(history, UNTIL))).toBe(JSON.stringify(outputs));
  });

  it('gives the same outputs when every event is delivered twice', async () => {
    const twice = history.flatMap((e) => [e, e]);
    expect(JSON.stringify(await run(twice, UNTIL))).toBe(JSON.stringify(outputs));
  });

  it('gives every output a distinct event id', () => {
    const ids = outputs.map((o) => (o.value as { eventId: string }).eventId);
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
