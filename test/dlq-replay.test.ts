/**
 * A dead letter, once its cause is fixed, goes back on its source topic with
 * `churnctl dlq replay` and is processed once, however often the replay runs.
 */
import { replayDeadLetters } from '@churn/cli';
import type { ChurnDecision } from '@churn/contracts';
import { kafkaServiceEnv, parseConfig, type RunningService } from '@churn/runtime';
import { decisionsTopologies } from '@churn/service-decisions';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { aCancellationOf, aCustomerHistory } from './support/customers.ts';
import { Collector, connectWithTopics, emptyBroker, testSerde } from './support/kafka.ts';
import { ready, startTestService, testPolicy } from './support/pipeline.ts';

describe('churnctl dlq replay', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('puts a record that had the wrong key back under its customerId, and it is decided once', {
    timeout: 120_000,
  }, async () => {
    const config = parseConfig(kafkaServiceEnv, {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    });
    // An empty cluster: the services' partitions would otherwise take in what earlier
    // tests left on the input topics, and their clocks move on past this file's histories.
    await emptyBroker();
    const { kafka, producer } = await connectWithTopics();
    cleanups.push(() => producer.disconnect());
    const service: RunningService = await startTestService('churn-decisions', decisionsTopologies(testPolicy()));
    cleanups.push(() => service.stop());
    await ready(service);
    const collector = await new Collector(kafka).start([
      'churn.decisions.v1',
      'customer.cancellations.v1.dlq',
      'customer.cancellations.v1',
    ]);
    cleanups.push(() => collector.stop());
    const serde = testSerde();

    const h = aCustomerHistory({ monthlyRevenue: 20_000, monthlyCost: 10_000 });
    await producer.send({
      topic: 'customer.profiles.v1',
      messages: [{ key: h.customerId, value: await serde.encode('customer.profiles.v1', h.profile) }],
    });
    for (const invoice of h.invoices) {
      await producer.send({
        topic: 'billing.invoices.v1',
        messages: [{ key: h.customerId, value: await serde.encode('billing.invoices.v1', invoice) }],
      });
    }
    const cancellation = aCancellationOf(h, { reason: 'PRICE' });
    await producer.send({
      topic: 'customer.cancellations.v1',
      messages: [
        {
          key: 'not-the-customer',
          value: await serde.encode('customer.cancellations.v1', cancellation),
          headers: { origin: 'crm-export' },
        },
      ],
    });
    const dead = () =>
      collector.of(
        'customer.cancellations.v1.dlq',
        (r) =>
          r.headers['churn.service'] === 'churn-decisions' &&
          r.headers['churn.error.code'] === 'CHURN_KEY_MISMATCH' &&
          r.raw !== null &&
          r.key === 'not-the-customer',
      );
    await collector.waitFor('the dead letter', () => dead().some((r) => r.headers.origin === 'crm-export'));
    const decisions = () =>
      collector.of('churn.decisions.v1', (r) => r.key === h.customerId).map((r) => r.value as ChurnDecision);
    expect(decisions()).toEqual([]);

    const first = await replayDeadLetters(config, 'customer.cancellations.v1.dlq', {
      code: 'CHURN_KEY_MISMATCH',
      service: 'churn-decisions',
      rekey: true,
    });
    const mine = first.replayed.filter((l) => l.key === 'not-the-customer');
    expect(mine.length).toBeGreaterThan(0);
    await collector.waitFor('the decision', () => decisions().length > 0);
    const replayed = collector.of('customer.cancellations.v1', (r) => r.key === h.customerId);
    expect(replayed).toHaveLength(1);
    expect(replayed[0]?.headers.origin).toBe('crm-export');
    expect(replayed[0]?.headers['churn.replayed-from']).toMatch(/^customer\.cancellations\.v1\.dlq\/\d+\/\d+$/);

    const second = await replayDeadLetters(config, 'customer.cancellations.v1.dlq', {
      code: 'CHURN_KEY_MISMATCH',
      service: 'churn-decisions',
      rekey: true,
    });
    expect(second.replayed).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(decisions()).toHaveLength(1);
    expect(decisions()[0]).toMatchObject({
      cancellationId: cancellation.cancellationId,
      causationId: cancellation.eventId,
    });
  });
});
