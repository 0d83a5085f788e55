/**
 * A policy experiment and a shadow policy on Kafka: each customer's decision comes from
 * its arm, the shadow's decisions go to their own topic only, and everything else is
 * what the policy alone gives.
 */
import type { ChurnDecision, ContactTask } from '@churn/contracts';
import { armOf, loadPolicy, mergeDocuments } from '@churn/domain';
import { DEFAULT_POLICY_FILE, InProcessRunner, type RunningService, readJsonFile, type Topology } from '@churn/runtime';
import { decisionsTopologies } from '@churn/service-decisions';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCancellationOf, aCustomerHistory, type History } from './support/customers.ts';
import { Collector, connectWithTopics, testSerde } from './support/kafka.ts';
import { eventually, ready, startTestService } from './support/pipeline.ts';

const DAY = 86_400_000;

describe('experiments and shadow policies on Kafka', () => {
  // Learning off: what earlier tests taught the learning stage on this broker must not
  // move these decisions away from the in-process run they are compared with.
  const base = mergeDocuments(readJsonFile(DEFAULT_POLICY_FILE), { learning: { enabled: false } });
  const generous = { version: 'generous-test', offers: { PRICE: { DOWNGRADE: { probability: 0.95 } } } };
  const experiment = {
    name: `kafka-${crypto.randomUUID().slice(0, 6)}`,
    arms: [
      { name: 'control', share: 0.5 },
      { name: 'generous', share: 0.5, overrides: generous },
    ],
  };
  const policy = loadPolicy(mergeDocuments(base, { experiment, shadow: { overrides: { version: 'shadow-test' } } }));
  const withoutShadow = loadPolicy(mergeDocuments(base, { experiment }));
  const serde = testSerde();
  let kafka: Kafka;
  let producer: Producer;
  let service: RunningService;

  beforeAll(async () => {
    ({ kafka, producer } = await connectWithTopics());
    // A group of its own: the decision service's usual one learns, and this one does not.
    service = await startTestService(
      'churn-decisions-experiments',
      decisionsTopologies(policy).map((t) => ({ ...t, name: `${t.name}-experiments` })),
    );
    await ready(service);
  });

  afterAll(async () => {
    await service?.stop();
    await producer?.disconnect();
  });

  const send = async (topic: string, key: string, value: unknown) =>
    producer.send({ topic, messages: [{ key, value: await serde.encode(topic as never, value) }] });

  it('decides each customer with its arm, and publishes the shadow decisions alone on their topic', async () => {
    const runner = service.runners[0] as NonNullable<(typeof service.runners)[number]>;
    await eventually('the decision service to catch up', () => runner.isCaughtUp());
    const latest = Math.max(0, ...[...runner.clocks().values()].map((c) => c ?? 0));
    const now = Math.max(Date.UTC(2026, 5, 1), latest + 2 * DAY);
    const histories: History[] = Array.from({ length: 8 }, () =>
      aCustomerHistory({ monthlyRevenue: 9_000, monthlyCost: 4_000, now }),
    );
    // Both arms are there, or the test says nothing about arms.
    expect(new Set(histories.map((h) => armOf(policy, h.customerId)?.name))).toEqual(new Set(['control', 'generous']));
    const ours = new Set(histories.map((h) => h.customerId));
    const collector = await new Collector(kafka).start([
      'churn.decisions.v1',
      'churn.decisions.shadow.v1',
      'contact-center.tasks.v1',
    ]);
    try {
      for (const h of histories) {
        await send('customer.profiles.v1', h.customerId, h.profile);
        for (const invoice of h.invoices) await send('billing.invoices.v1', h.customerId, invoice);
      }
      await eventually('the customers to be known', () => histories.every((h) => runner.hasKey(h.customerId)));
      const cancellations = histories.map((h) => aCancellationOf(h, { reason: 'PRICE' }));
      for (const c of cancellations) await send('customer.cancellations.v1', c.customerId, c);
      const of = (topic: string) => collector.of(topic, (r) => r.key !== null && ours.has(r.key)).map((r) => r.value);
      await collector.waitFor('every decision and shadow decision', () => {
        return of('churn.decisions.v1').length === 8 && of('churn.decisions.shadow.v1').length === 8;
      });

      // The same records through the in-process runner, without the shadow.
      const inProcess = new InProcessRunner(decisionsTopologies(withoutShadow) as Topology[]);
      const expected = histories.flatMap((h, i) => {
        inProcess.feed({ topic: 'customer.profiles.v1', key: h.customerId, value: h.profile });
        for (const invoice of h.invoices)
          inProcess.feed({ topic: 'billing.invoices.v1', key: h.customerId, value: invoice });
        return inProcess.feed({ topic: 'customer.cancellations.v1', key: h.customerId, value: cancellations[i] });
      });
      const decisions = of('churn.decisions.v1') as ChurnDecision[];
      for (const d of decisions) {
        const arm = armOf(policy, d.customerId);
        expect(d.arm).toBe(arm?.name);
        expect(d.policyVersion).toBe(arm?.policy.version);
      }
      // What the arm decided, compared by what tells arms apart (the value snapshot moves
      // with the runner's clock steps, which the in-process feed above has none of).
      const gist = (records: unknown[]) =>
        (records as ChurnDecision[])
          .map((d) =>
            JSON.stringify([
              d.decisionId,
              d.arm,
              d.policyVersion,
              d.action,
              d.offer,
              d.offersWeighed.map((o) => o.probability),
            ]),
          )
          .sort();
      const expectedOf = (topic: string) => expected.filter((r) => r.topic === topic).map((r) => r.value);
      expect(gist(decisions)).toEqual(gist(expectedOf('churn.decisions.v1')));
      // The tasks are the policy's alone: the shadow adds none.
      const taskIds = (records: unknown[]) => (records as ContactTask[]).map((t) => `${t.taskId} ${t.offer}`).sort();
      await collector.waitFor(
        'the tasks',
        () => of('contact-center.tasks.v1').length >= expectedOf('contact-center.tasks.v1').length,
      );
      await collector.readToEnd();
      expect(taskIds(of('contact-center.tasks.v1'))).toEqual(taskIds(expectedOf('contact-center.tasks.v1')));
      const shadows = of('churn.decisions.shadow.v1') as ChurnDecision[];
      expect(shadows.every((s) => s.policyVersion === 'shadow-test')).toBe(true);
      expect(new Set(shadows.map((s) => s.causationId))).toEqual(new Set(cancellations.map((c) => c.eventId)));
    } finally {
      await collector.stop();
    }
  });
});
