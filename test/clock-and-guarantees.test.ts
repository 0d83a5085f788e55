/**
 * The follow-up program on Kafka, driven by the runner's clock, and the at-least-once
 * mode for those who prefer throughput.
 */
import type { ChurnAlert, ChurnDecision, ContactTask } from '@churn/contracts';
import { aTaskOutcome } from '@churn/contracts/testing';
import { InProcessRunner, type InputRecord, type RunningService, type Topology } from '@churn/runtime';
import { decisionsTopologies } from '@churn/service-decisions';
import { type FollowUpsState, followUpsTopology } from '@churn/service-follow-ups';
import type { Kafka, Producer } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aCancellationOf, aCustomerHistory, type History } from './support/customers.ts';
import { Collector, connectWithTopics, testSerde } from './support/kafka.ts';
import { eventually, priorsOnlyPolicy, ready, startTestService, testPolicy } from './support/pipeline.ts';

const DAY = 86_400_000;

/** The history's records as the runners read them. */
const historyRecords = (h: History): InputRecord[] => [
  { topic: 'customer.profiles.v1', key: h.customerId, value: h.profile },
  ...h.invoices.map((value) => ({ topic: 'billing.invoices.v1', key: h.customerId, value })),
];

/**
 * The sum of a counter's samples whose labels include `labels`. The counter must be
 * registered: a metric that is not there fails the test rather than counting as zero.
 */
async function counterOf(service: RunningService, name: string, labels: Record<string, string>): Promise<number> {
  const metric = service.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`metric ${name} is not registered`);
  const { type, values } = await metric.get();
  expect(type).toBe('counter');
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('the runner clock and the processing guarantees', () => {
  let kafka: Kafka;
  let producer: Producer;
  const serde = testSerde();
  const running: RunningService[] = [];
  const send = async (topic: string, key: string, value: unknown) =>
    producer.send({ topic, messages: [{ key, value: await serde.encode(topic as never, value) }] });
  /** Sends the history; gives where its last invoice landed. */
  const sendHistory = async (h: History) => {
    await send('customer.profiles.v1', h.customerId, h.profile);
    let last: { partition: number; offset: bigint } | undefined;
    for (const invoice of h.invoices) {
      const [sent] = await send('billing.invoices.v1', h.customerId, invoice);
      if (sent) last = { partition: sent.partition, offset: BigInt(sent.baseOffset as string) };
    }
    return last;
  };
  /** A tier A B2B customer on the RETAIN track: followed up weekly by the account manager. */
  const aTierACustomer = (now?: number) =>
    aCustomerHistory({
      monthlyRevenue: 60_000,
      monthlyCost: 30_000,
      accountManager: 'am-031',
      ...(now ? { now } : {}),
    });

  beforeAll(async () => {
    ({ kafka, producer } = await connectWithTopics());
    return () => producer.disconnect();
  });

  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  it('follows a tier A customer up weekly on event time, alerts the owner when nobody does, and moves on with the clock', async () => {
    const service = await startTestService('churn-follow-ups', [followUpsTopology(testPolicy())]);
    running.push(service);
    await ready(service);
    const runner = service.runners[0];
    // A partition's clock only moves forward; on a broker that earlier tests fed, the
    // history has to start after every partition's clock.
    await eventually('the service to catch up', () => runner?.isCaughtUp() === true);
    const latest = Math.max(0, ...[...(runner?.clocks().values() ?? [])].map((c) => c ?? 0));
    const NOW = Math.max(Date.UTC(2026, 5, 1), latest + 1_000 * DAY);
    const h = aTierACustomer(NOW);
    const id = h.customerId;
    const collector = await new Collector(kafka).start(['contact-center.tasks.v1', 'churn.alerts.v1']);
    const tasks = () => collector.of('contact-center.tasks.v1', (r) => r.key === id).map((r) => r.value as ContactTask);
    const alerts = () => collector.of('churn.alerts.v1', (r) => r.key === id).map((r) => r.value as ChurnAlert);
    try {
      // A year of invoices: the clock passes every midnight of it. The customer starts with
      // no revenue (tier D, RETAIN: a yearly automated mail flow), long past due.
      await sendHistory(h);
      await collector.waitFor('the first follow-up', () => tasks().length > 0);
      const first = tasks()[0] as ContactTask;
      expect(first).toMatchObject({ kind: 'FOLLOW_UP', queue: 'automated', offer: 'NONE' });
      await eventually(
        'the history to be processed',
        () => (runner?.stateOf(id) as FollowUpsState | undefined)?.own?.value?.tier === 'A',
      );
      // It became a tier A customer on the way; the open follow-up is now the account manager's to
      // see through, and its deadline has passed.
      await collector.waitFor('the not-followed alert', () => alerts().length > 0);
      expect(alerts()[0]).toMatchObject({ kind: 'PROGRAM_NOT_FOLLOWED', owner: 'am-031', severity: 'WARNING' });

      // The flow completes; now a tier A customer, the next follow-up is weekly, with the
      // account manager. No more events arrive, so the clock is moved on (the wall-clock
      // interval does this live).
      const completedAt = NOW - 10 * DAY;
      await send(
        'contact-center.task-outcomes.v1',
        id,
        aTaskOutcome({ customerId: id, taskId: first.taskId, outcome: 'COMPLETED', occurredAt: completedAt }),
      );
      await eventually(
        'the outcome to complete the follow-up',
        () => (runner?.stateOf(id) as FollowUpsState | undefined)?.own?.open === null,
      );
      expect(await runner?.advanceClock(completedAt + 8 * DAY)).toBeGreaterThan(0);
      await collector.waitFor('the weekly follow-up', () => tasks().length === 2);
      const weekly = tasks()[1] as ContactTask;
      expect(weekly).toMatchObject({ kind: 'FOLLOW_UP', queue: 'owner:am-031', priority: 'P2' });
      expect(weekly.dueAt - weekly.occurredAt).toBe(2 * DAY); // grace: 20% of a week, at least 2 days

      // Nobody records an outcome within the grace period: the owner is alerted.
      await runner?.advanceClock(completedAt + 11 * DAY);
      await collector.waitFor('a second not-followed alert', () => alerts().length === 2);
      expect(alerts()[1]).toMatchObject({ kind: 'PROGRAM_NOT_FOLLOWED', owner: 'am-031', severity: 'WARNING' });
      expect(alerts()[1]?.occurredAt).toBeGreaterThanOrEqual(weekly.dueAt);
    } finally {
      await collector.stop();
    }
  });

  it('decides with PROCESSING_GUARANTEE=at_least_once as well', async () => {
    const policy = priorsOnlyPolicy();
    // A group of its own: the decision service's usual one learns, and this one does not.
    const service = await startTestService(
      'churn-decisions-priors',
      decisionsTopologies(policy).map((t) => ({ ...t, name: `${t.name}-priors` })),
      {
        PROCESSING_GUARANTEE: 'at_least_once',
      },
    );
    running.push(service);
    await ready(service);
    const runner = service.runners[0] as NonNullable<(typeof service.runners)[number]>;
    const h = aTierACustomer();
    const id = h.customerId;
    const cancellation = aCancellationOf(h, { reason: 'COMPETITOR' });
    const lastInvoice = await sendHistory(h);
    if (!lastInvoice) throw new Error('the history has no invoices');
    // Every invoice must be processed before the cancellation is sent, or the decision would
    // see a smaller value than the replay's. Being caught up is not enough: it is measured
    // against the high watermark of the last fetch, which may predate the last invoice.
    await eventually('the decisions service to process the whole history', () =>
      runner
        .positions()
        .some(
          (p) =>
            p.topic === 'billing.invoices.v1' &&
            p.partition === lastInvoice.partition &&
            p.next !== '-' &&
            BigInt(p.next) > lastInvoice.offset,
        ),
    );
    // Whatever else the service had to catch up with is done: from here on, the counters
    // move for this customer's cancellation only.
    await eventually('the decisions service to catch up', () => runner.isCaughtUp());
    const counted = (name: string, labels: Record<string, string>) => counterOf(service, name, labels);
    const produced = { service: runner.name, topic: 'churn.decisions.v1' };
    const consumed = { service: runner.name, topic: 'customer.cancellations.v1' };
    const producedBefore = await counted('churn_events_produced_total', produced);
    const consumedBefore = await counted('churn_events_consumed_total', consumed);
    const decisionsBefore = await counted('churn_decisions_total', {});

    const collector = await new Collector(kafka).start(['churn.decisions.v1']);
    try {
      const [sent] = await send('customer.cancellations.v1', id, cancellation);
      expect(sent?.baseOffset).toMatch(/^\d+$/);
      const sentOffset = BigInt(sent?.baseOffset as string);
      await collector.waitFor('the decision', () => collector.of('churn.decisions.v1', (r) => r.key === id).length > 0);
      const decisions = collector.of('churn.decisions.v1', (r) => r.key === id).map((r) => r.value as ChurnDecision);
      expect(decisions).toHaveLength(1);
      const decision = decisions[0] as ChurnDecision;

      // The same decision as the in-process run of the same topology over the same records.
      const replayed = new InProcessRunner(decisionsTopologies(policy) as Topology[]);
      for (const record of historyRecords(h)) replayed.feed(record);
      const expected = replayed
        .feed({ topic: 'customer.cancellations.v1', key: id, value: cancellation })
        .find((r) => r.topic === 'churn.decisions.v1')?.value as ChurnDecision | undefined;
      expect(replayed.takeDeadLetters()).toEqual([]);
      expect(expected).toBeDefined();
      expect(decision).toMatchObject({
        decisionId: expected?.decisionId,
        cancellationId: cancellation.cancellationId,
        causationId: cancellation.eventId,
        action: expected?.action,
        offer: expected?.offer,
        tier: expected?.tier,
        track: expected?.track,
        policyVersion: policy.version,
      });
      expect(decision.value.revenue12m).toBe(expected?.value.revenue12m);

      // At least once: the consumed offset is committed outside any transaction once the
      // decision is written.
      const admin = kafka.admin();
      await admin.connect();
      try {
        await eventually('the offset of the cancellation to be committed', async () => {
          const [offsets] = await admin.fetchOffsets({
            groupId: runner.groupId,
            topics: ['customer.cancellations.v1'],
          });
          const committed = offsets?.partitions.find((p) => p.partition === sent?.partition)?.offset ?? '-1';
          return BigInt(committed) > sentOffset;
        });
      } finally {
        await admin.disconnect();
      }

      // The metrics count the decision, and not a single Kafka transaction.
      expect(await counted('churn_events_consumed_total', consumed)).toBe(consumedBefore + 1);
      expect(await counted('churn_events_produced_total', produced)).toBe(producedBefore + 1);
      expect(await counted('churn_decisions_total', {})).toBe(decisionsBefore + 1);
      expect(
        await counted('churn_decisions_total', { action: decision.action, offer: decision.offer, tier: decision.tier }),
      ).toBeGreaterThanOrEqual(1);
      expect(await counted('churn_transactions_total', { service: runner.name })).toBe(0);
    } finally {
      await collector.stop();
    }
  });
});
