/**
 * The rules of the domain exercised through Kafka: input topics in, output topics read
 * back with a read_committed consumer, on the real broker and registry.
 */
import type { ChurnAlert, ChurnDecision, ContactTask, CustomerValue } from '@churn/contracts';
import { aSurveyResult } from '@churn/contracts/testing';
import type { RunningService } from '@churn/runtime';
import { customerValueTopology } from '@churn/service-customer-value';
import { type DecisionsState, decisionsTopologies } from '@churn/service-decisions';
import { type SignalsState, signalsTopology } from '@churn/service-signals';
import { structuralIssuesTopology, structuralRouteTopology } from '@churn/service-structural';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCancellationOf, aCustomerHistory, type History } from './support/customers.ts';
import { Collector, connectWithTopics, emptyBroker, testSerde } from './support/kafka.ts';
import { eventually, ready, startTestService, testPolicy } from './support/pipeline.ts';

const OUTPUTS = ['churn.customer-value.v1', 'churn.decisions.v1', 'contact-center.tasks.v1', 'churn.alerts.v1'];
const DLQS = ['customer.cancellations.v1.dlq', 'billing.invoices.v1.dlq'];

/**
 * The value of a metric's sample in the Prometheus text format whose labels are exactly
 * `labels`, or undefined when the text has no such sample.
 */
function sampleOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const wanted = Object.entries(labels);
    if (Object.keys(found).length === wanted.length && wanted.every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('the pipeline on Kafka', () => {
  let kafka: Kafka;
  let producer: Producer;
  let services: RunningService[] = [];
  let collector: Collector;
  const serde = testSerde();

  const send = async (topic: string, key: string | null, value: unknown) => {
    await producer.send({ topic, messages: [{ key, value: await serde.encode(topic as never, value) }] });
  };
  const sendHistory = async (h: History) => {
    await send('customer.profiles.v1', h.customerId, h.profile);
    for (const invoice of h.invoices) await send('billing.invoices.v1', h.customerId, invoice);
  };
  const latestValue = (h: History) =>
    collector
      .of('churn.customer-value.v1', (r) => r.key === h.customerId)
      .map((r) => r.value as CustomerValue)
      .at(-1);
  const decisionOf = (h: History) =>
    collector.of('churn.decisions.v1', (r) => r.key === h.customerId).map((r) => r.value as ChurnDecision);
  const tasksOf = (h: History) =>
    collector.of('contact-center.tasks.v1', (r) => r.key === h.customerId).map((r) => r.value as ContactTask);
  const alertsOf = (h: History) =>
    collector.of('churn.alerts.v1', (r) => r.key === h.customerId).map((r) => r.value as ChurnAlert);
  /**
   * Waits until a service has joined the customer's value: the services read the value
   * topic beside their other inputs, so a test sends the next event only once the join
   * is there (as a live system would have it by the time a customer acts).
   */
  const joined = (index: number, h: History, pick: (state: unknown) => CustomerValue | null | undefined) =>
    eventually(`${services[index]?.runners[0]?.name} to know ${h.customerId}`, () => {
      const known = pick(services[index]?.runners[0]?.stateOf(h.customerId));
      return known !== undefined && known !== null && known.eventId === latestValue(h)?.eventId;
    });
  /** Sends a history, waits for its last value snapshot to be decided on, then cancels. */
  const cancelAfterHistory = async (h: History, overrides: Parameters<typeof aCancellationOf>[1] = {}) => {
    await sendHistory(h);
    await collector.waitFor(
      `value of ${h.customerId}`,
      () =>
        (latestValue(h)?.revenue12m ?? 0) ===
        h.invoices.filter((i) => i.status === 'ISSUED').reduce((s, i) => s + i.amount, 0),
    );
    await joined(1, h, (state) => (state as DecisionsState | undefined)?.own?.value);
    await send('customer.cancellations.v1', h.customerId, aCancellationOf(h, overrides));
    await collector.waitFor(`decision for ${h.customerId}`, () => decisionOf(h).length > 0);
    // Tasks and alerts are committed with the decision, but the reader sees each topic
    // on its own: wait until the decision's tasks and alerts are all read.
    const decision = decisionOf(h)[0] as ChurnDecision;
    const expectedAlerts = decision.value.tier === 'A' || !decision.value.paybackReached ? 1 : 0;
    await collector.waitFor(
      `tasks and alerts of ${h.customerId}`,
      () => tasksOf(h).length > 0 && alertsOf(h).length >= expectedAlerts,
    );
    return decision;
  };

  beforeAll(async () => {
    // An empty cluster: the services' partitions would otherwise take in what earlier
    // tests left on the input topics, and their clocks move on past this file's histories.
    await emptyBroker();
    ({ kafka, producer } = await connectWithTopics());
    const policy = testPolicy();
    services = [
      await startTestService('churn-customer-value', [customerValueTopology(policy)]),
      await startTestService('churn-decisions', decisionsTopologies(policy)),
      await startTestService('churn-signals', [signalsTopology(policy)]),
      await startTestService('churn-structural', [structuralRouteTopology(policy), structuralIssuesTopology(policy)]),
    ];
    for (const s of services) await ready(s);
    collector = await new Collector(kafka).start([...OUTPUTS, ...DLQS]);
  });

  afterAll(async () => {
    await collector?.stop();
    for (const s of services) await s.stop();
    await producer?.disconnect();
  });

  it('gives a tier A customer who leaves for a competitor a human dialogue, an escalation and a critical alert', async () => {
    const h = aCustomerHistory({ monthlyRevenue: 60_000, monthlyCost: 30_000, accountManager: 'am-007' });
    const decision = await cancelAfterHistory(h, { reason: 'COMPETITOR' });
    expect(decision.value.tier).toBe('A');
    expect(decision.action).toBe('WIN_BACK');
    expect(decision.offer).toBe('EXECUTIVE_ESCALATION');
    expect(decision.offersWeighed.map((o) => o.offer)).toContain('ACCOUNT_MANAGER_MEETING');
    expect(decision.policyVersion).toMatch(/^default-/);
    expect(decision.reasons.join(' ')).toMatch(/tier A/);
    expect(alertsOf(h)).toContainEqual(
      expect.objectContaining({ kind: 'HIGH_VALUE_AT_RISK', severity: 'CRITICAL', owner: 'am-007' }),
    );
    expect(tasksOf(h).map((t) => t.queue)).toContain('owner:am-007');
    expect(tasksOf(h).every((t) => t.causationId === decision.causationId)).toBe(true);
  });

  it('lets an unprofitable customer go gracefully: thanks, an exit survey and, for B2B, an orderly handover', async () => {
    const h = aCustomerHistory({ monthlyRevenue: 3_000, monthlyCost: 3_600, accountManager: null });
    const decision = await cancelAfterHistory(h, { reason: 'PRICE' });
    expect(decision.value.margin12m).toBeLessThan(0);
    expect(decision.action).toBe('GRACEFUL_OFFBOARDING');
    expect(decision.offer).toBe('NONE');
    expect(decision.expectedValue).toBe(0);
    expect(
      tasksOf(h)
        .map((t) => t.kind)
        .sort(),
    ).toEqual(['EXIT_SURVEY', 'OFFBOARDING_CALL', 'THANK_YOU_MESSAGE']);
    expect(tasksOf(h).every((t) => t.offer === 'NONE')).toBe(true);
  });

  it('tells Sales and Marketing when a customer cancels before paying back what it cost to win', async () => {
    const h = aCustomerHistory({
      monthlyRevenue: 2_000,
      monthlyCost: 1_000,
      signedUpDaysAgo: 400,
      acquisitionCost: 5_000_000,
    });
    const decision = await cancelAfterHistory(h, { reason: 'LIFE_CHANGE' });
    expect(decision.value.paybackReached).toBe(false);
    expect(alertsOf(h)).toContainEqual(
      expect.objectContaining({ kind: 'EARLY_TENURE_CANCELLATION', owner: 'sales-marketing' }),
    );
  });

  it('sends undecodable and meaningless records to the dead-letter topic with the reason in headers, and counts them', async () => {
    const h = aCustomerHistory({ monthlyRevenue: 1_000, monthlyCost: 500 });
    const marker = `dlq-${h.customerId}`;
    const deadLetters = async (reason: string) =>
      sampleOf(
        (await services[1]?.metrics.registry.getSingleMetricAsString('churn_dead_letters_total')) ?? '',
        'churn_dead_letters_total',
        { service: 'churn-decisions', topic: 'customer.cancellations.v1', reason },
      ) ?? 0;
    await eventually('the decisions service to catch up', () => services[1]?.runners[0]?.isCaughtUp() === true);
    const before = { wire: await deadLetters('CHURN_WIRE_FORMAT'), key: await deadLetters('CHURN_KEY_MISMATCH') };
    await producer.send({
      topic: 'customer.cancellations.v1',
      messages: [{ key: h.customerId, value: Buffer.from('not avro at all'), headers: { marker } }],
    });
    const wrongKey = await serde.encode('customer.cancellations.v1', aCancellationOf(h));
    await producer.send({
      topic: 'customer.cancellations.v1',
      messages: [{ key: 'someone-else', value: wrongKey, headers: { marker } }],
    });
    // Every service that reads the topic dead-letters what it cannot use; look at the decisions service's.
    const mine = () =>
      collector.of(
        'customer.cancellations.v1.dlq',
        (r) => r.headers.marker === marker && r.headers['churn.service'] === 'churn-decisions',
      );
    await collector.waitFor('two dead letters', () => mine().length === 2);
    const dead = mine();
    expect(dead.map((d) => d.headers['churn.error.code']).sort()).toEqual(['CHURN_KEY_MISMATCH', 'CHURN_WIRE_FORMAT']);
    const raw = dead.find((d) => d.headers['churn.error.code'] === 'CHURN_WIRE_FORMAT');
    expect(raw?.raw?.toString()).toBe('not avro at all');
    expect(raw?.key).toBe(h.customerId);
    expect(raw?.headers).toMatchObject({
      'churn.error.kind': 'decode',
      'churn.source.topic': 'customer.cancellations.v1',
      'churn.service': 'churn-decisions',
      'churn.attempts': '1',
    });
    expect(raw?.headers['churn.source.offset']).toMatch(/^\d+$/);
    expect(decisionOf(h)).toEqual([]);
    await eventually(
      'the dead letters to be counted',
      async () =>
        (await deadLetters('CHURN_WIRE_FORMAT')) > before.wire &&
        (await deadLetters('CHURN_KEY_MISMATCH')) > before.key,
    );
    expect(await deadLetters('CHURN_WIRE_FORMAT')).toBe(before.wire + 1);
    expect(await deadLetters('CHURN_KEY_MISMATCH')).toBe(before.key + 1);
  });

  it('involves everyone at once when a valuable customer is a detractor: a critical alert and a P1 service recovery', async () => {
    const h = aCustomerHistory({ monthlyRevenue: 20_000, monthlyCost: 10_000, accountManager: 'am-019' });
    await sendHistory(h);
    await collector.waitFor(`value of ${h.customerId}`, () => latestValue(h)?.tier === 'B');
    await joined(2, h, (state) => (state as SignalsState | undefined)?.own?.survey?.value);
    await send(
      'customer.surveys.v1',
      h.customerId,
      aSurveyResult({
        customerId: h.customerId,
        surveyId: `nps-${h.customerId}`,
        kind: 'NPS',
        score: 3,
        occurredAt: Date.UTC(2026, 5, 2),
      }),
    );
    await collector.waitFor('the detractor alert', () => alertsOf(h).some((a) => a.kind === 'HIGH_VALUE_DETRACTOR'));
    expect(alertsOf(h)).toContainEqual(
      expect.objectContaining({ kind: 'HIGH_VALUE_DETRACTOR', severity: 'CRITICAL', owner: 'am-019' }),
    );
    await collector.waitFor('the recovery task', () => tasksOf(h).some((t) => t.kind === 'SERVICE_RECOVERY'));
    expect(tasksOf(h).find((t) => t.kind === 'SERVICE_RECOVERY')).toMatchObject({
      priority: 'P1',
      queue: 'owner:am-019',
    });
  });

  it('follows up an overdue invoice of a tier A-C customer and warns of payment risk for tier A/B', async () => {
    const h = aCustomerHistory({ monthlyRevenue: 20_000, monthlyCost: 10_000, accountManager: 'am-023' });
    await sendHistory(h);
    await collector.waitFor(`value of ${h.customerId}`, () => latestValue(h)?.tier === 'B');
    await joined(2, h, (state) => (state as SignalsState | undefined)?.own?.invoice?.value);
    const last = h.invoices.at(-2) as NonNullable<(typeof h.invoices)[number]>;
    const overdue = {
      ...last,
      eventId: crypto.randomUUID(),
      invoiceId: `${last.invoiceId}-late`,
      status: 'OVERDUE' as const,
      paidAt: null,
      occurredAt: last.dueAt + 86_400_000,
    };
    await send('billing.invoices.v1', h.customerId, overdue);
    await collector.waitFor('the payment follow-up', () => tasksOf(h).some((t) => t.kind === 'PAYMENT_FOLLOW_UP'));
    await collector.waitFor('the payment-risk alert', () => alertsOf(h).some((a) => a.kind === 'PAYMENT_RISK'));
    expect(alertsOf(h)).toContainEqual(expect.objectContaining({ kind: 'PAYMENT_RISK' }));
  });

  it('alerts management once when five customers cancel for the same product gap within 30 days', async () => {
    const policy = testPolicy();
    const reason = 'PRODUCT_GAP' as const;
    expect(policy.tables.structuralReasons.has(reason)).toBe(true);
    const histories = Array.from({ length: policy.structural.minCustomers }, () =>
      aCustomerHistory({ monthlyRevenue: 500, monthlyCost: 300 }),
    );
    // The count is kept per reason, across earlier tests and runs against the same broker
    // too: this test's window starts a window after the last one the service knows of.
    const DAY = 86_400_000;
    const windowMs = (policy.structural.windowDays + 1) * DAY;
    const known = services[3]?.runners[1]?.stateOf(reason) as { latest: number; alertedAt: number | null } | undefined;
    const start = Math.max(Date.UTC(2026, 7, 1), (known?.latest ?? 0) + windowMs, (known?.alertedAt ?? 0) + windowMs);
    // Customers the decision service knows: the count takes decided cancellations only.
    const causes = new Set<string>();
    for (const [i, h] of histories.entries()) {
      const decision = await cancelAfterHistory(h, { reason, occurredAt: start + i * DAY, effectiveAt: null });
      causes.add(decision.causationId);
    }
    // The count takes cancellations once every partition has passed them: a day later
    // on the clock (the wall clock's interval would move quiet partitions on).
    const route = services[3]?.runners[0];
    await eventually('the route to see the decisions', () => route?.isCaughtUp() === true);
    await route?.advanceClock(start + (histories.length + 1) * DAY);
    // This test's alert: the one the last of its cancellations caused.
    const mine = () =>
      collector
        .of('churn.alerts.v1', (r) => r.key === reason)
        .map((r) => r.value as ChurnAlert)
        .filter((a) => a.kind === 'STRUCTURAL_ISSUE' && causes.has(a.causationId));
    await collector.waitFor('a structural issue alert', () => mine().length > 0);
    expect(mine()).toHaveLength(1);
    expect(mine()[0]).toMatchObject({ customerId: null, owner: policy.owners.management });
    expect(mine()[0]?.causationId).toBe(decisionOf(histories.at(-1) as History)[0]?.causationId);
  });

  it('serves metrics, health and readiness over HTTP', async () => {
    const port = services[1]?.ops.port;
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // The decision this test causes, counted from what the service had counted before it.
    await eventually('the decisions service to catch up', () => services[1]?.runners[0]?.isCaughtUp() === true);
    const before = await scrape();
    const h = aCustomerHistory({ monthlyRevenue: 60_000, monthlyCost: 30_000, accountManager: 'am-011' });
    const decision = await cancelAfterHistory(h, { reason: 'COMPETITOR' });
    const labels = { action: decision.action, offer: decision.offer, tier: decision.tier };
    const after = await scrape();
    expect(sampleOf(after, 'churn_decisions_total', labels)).toBe(
      (sampleOf(before, 'churn_decisions_total', labels) ?? 0) + 1,
    );
    expect(sampleOf(after, 'churn_decision_latency_seconds_count', {})).toBe(
      (sampleOf(before, 'churn_decision_latency_seconds_count', {}) ?? 0) + 1,
    );
    expect(sampleOf(after, 'process_cpu_seconds_total', {})).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});
