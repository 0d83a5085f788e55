/**
 * A dead letter, once its cause is fixed, goes back on its source topic with
 * `churnctl dlq replay` and is processed once, however often the replay runs.
 */
import { replayDeadLetters } from '@churn/cli';
import { type ChurnDecision, ChurnError } from '@churn/contracts';
import { deadLetterOf, kafkaServiceEnv, parseConfig, type RunningService } from '@churn/runtime';
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
  it('replays a record dead-lettered by several services once, and only the letters there when it began; a dry run sends nothing and keeps no progress', {
    timeout: 120_000,
  }, async () => {
    const config = parseConfig(kafkaServiceEnv, {
      KAFKA_BROKERS: inject('kafkaBrokers'),
      SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    });
    const { kafka, producer } = await connectWithTopics();
    cleanups.push(() => producer.disconnect());
    const serde = testSerde();
    const h = aCustomerHistory({ monthlyRevenue: 20_000, monthlyCost: 10_000 });
    // One source record, with a wrong key, dead-lettered by two services.
    const source = {
      topic: 'customer.cancellations.v1',
      partition: 0,
      offset: String(1_000_000_000 + Math.floor(Math.random() * 1_000_000)),
      key: Buffer.from('not-the-customer'),
      value: await serde.encode('customer.cancellations.v1', aCancellationOf(h, { reason: 'PRICE' })),
      headers: { origin: 'crm-export' },
    };
    const wrongKey = new ChurnError('CHURN_KEY_MISMATCH', 'the key is not the customerId');
    for (const service of ['churn-decisions', 'churn-signals']) {
      const { topic, message } = deadLetterOf(source, wrongKey, service, 1, new Date());
      await producer.send({ topic, messages: [message] });
    }
    const dlq = 'customer.cancellations.v1.dlq';
    const ours = (letters: Array<{ sourceOffset: string }>) => letters.filter((l) => l.sourceOffset === source.offset);
    const collector = await new Collector(kafka).start(['customer.cancellations.v1', dlq]);
    cleanups.push(() => collector.stop());
    const replayedRecords = () => collector.of('customer.cancellations.v1', (r) => r.key === h.customerId);

    const dry = await replayDeadLetters(config, dlq, { rekey: true, dryRun: true });
    expect(ours(dry.replayed)).toHaveLength(1);
    expect(dry.skipped.filter((s) => s.letter.sourceOffset === source.offset).map((s) => s.why)).toEqual([
      'already replayed from another service',
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(replayedRecords()).toEqual([]);

    // The dry run kept no progress: the replay that follows finds the letters again.
    const real = await replayDeadLetters(config, dlq, { rekey: true });
    expect(ours(real.replayed)).toHaveLength(1);
    await collector.waitFor('the replayed record', () => replayedRecords().length > 0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(replayedRecords()).toHaveLength(1);
    expect(replayedRecords()[0]?.headers.origin).toBe('crm-export');
    // The customer is still unknown, so the decision service dead-letters the replayed
    // record again. The replay ended all the same: it reads only what was there when it
    // began, or it would replay the record again for as long as it keeps failing.
    await collector.waitFor(
      'the replayed record to be dead-lettered again',
      () =>
        collector.of(dlq, (r) => r.key === h.customerId && r.headers['churn.replayed-from'] !== undefined).length > 0,
    );
  });
});
