/**
 * State lives in memory per partition and is backed by a changelog topic: a restarted
 * service restores it before it processes, and when a second instance joins, the
 * partitions it takes over bring their state with them.
 */
import type { ChurnDecision, CustomerValue } from '@churn/contracts';
import { aCancellation, aCustomerValue } from '@churn/contracts/testing';
import type { RunningService } from '@churn/runtime';
import { decisionsTopology } from '@churn/service-decisions';
import type { Kafka, Producer } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Collector, connectWithTopics, testSerde } from './support/kafka.ts';
import { eventually, ready, startTestService, testPolicy } from './support/pipeline.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

function snapshotFor(customerId: string, tier: 'A' | 'B' | 'C'): CustomerValue {
  const revenue = { A: 60_000_000, B: 20_000_000, C: 3_000_000 }[tier];
  return aCustomerValue({
    customerId,
    asOf: NOW - DAY,
    tier,
    revenue12m: revenue,
    margin12m: revenue / 2,
    remainingLifetimeValue: revenue * 2,
    cumulativeMargin: revenue,
    paybackReached: true,
    accountManager: `am-${tier}`,
  });
}

describe('state restored from the changelog', () => {
  let kafka: Kafka;
  let producer: Producer;
  const serde = testSerde();
  const running: RunningService[] = [];
  const start = async (instance: string) => {
    const service = await startTestService('churn-decisions', [decisionsTopology(testPolicy())], {
      INSTANCE_ID: instance,
    });
    running.push(service);
    return service;
  };
  const stop = async (service: RunningService) => {
    await service.stop();
    running.splice(running.indexOf(service), 1);
  };
  const send = async (topic: string, key: string, value: unknown) =>
    producer.send({ topic, messages: [{ key, value: await serde.encode(topic as never, value) }] });

  beforeAll(async () => {
    ({ kafka, producer } = await connectWithTopics());
    return async () => {
      await producer.disconnect();
    };
  });

  afterEach(async () => {
    for (const service of [...running]) await stop(service);
  });

  it('continues after a restart with the customer values it knew before', async () => {
    const customers = Array.from({ length: 6 }, (_, i) => `restore-${crypto.randomUUID().slice(0, 6)}-${i}`);
    const first = await start('first');
    await ready(first);
    for (const id of customers) await send('churn.customer-value.v1', id, snapshotFor(id, 'A'));
    await eventually('the snapshots to be kept', () => customers.every((id) => first.runners[0]?.hasKey(id) === true));
    await stop(first);

    const second = await start('second');
    await ready(second);
    // Restored before processing: the keys are there without any new input.
    expect(customers.every((id) => second.runners[0]?.hasKey(id))).toBe(true);
    const restores = await second.metrics.registry.getSingleMetricAsString('churn_state_restore_duration_seconds');
    expect(restores).toMatch(/churn_state_restore_duration_seconds_count\{service="churn-decisions"\} [1-9]/);

    const collector = await new Collector(kafka).start(['churn.decisions.v1']);
    try {
      for (const id of customers)
        await send(
          'customer.cancellations.v1',
          id,
          aCancellation({ customerId: id, reason: 'PRICE', occurredAt: NOW, effectiveAt: NOW + 30 * DAY }),
        );
      const mine = () => collector.of('churn.decisions.v1', (r) => customers.includes(r.key ?? ''));
      await collector.waitFor('a decision per customer', () => mine().length >= customers.length);
      // A decision made without the restored value would see an unknown customer (tier D, no revenue).
      expect(mine().map((r) => (r.value as ChurnDecision).value.tier)).toEqual(customers.map(() => 'A'));
      expect(mine().map((r) => (r.value as ChurnDecision).value.revenue12m)).toEqual(customers.map(() => 60_000_000));
    } finally {
      await collector.stop();
    }
  });

  it('moves state with the partitions when a second instance joins, and no decision changes', async () => {
    const customers = Array.from({ length: 12 }, (_, i) => ({
      id: `join-${crypto.randomUUID().slice(0, 6)}-${i}`,
      tier: (['A', 'B', 'C'] as const)[i % 3] as 'A' | 'B' | 'C',
    }));
    const one = await start('one');
    await ready(one);
    for (const c of customers) await send('churn.customer-value.v1', c.id, snapshotFor(c.id, c.tier));
    await eventually('the snapshots to be kept', () => customers.every((c) => one.runners[0]?.hasKey(c.id) === true));

    const two = await start('two');
    await eventually(
      'the partitions to be shared',
      () =>
        (one.runners[0]?.assignedPartitions().length ?? 0) > 0 &&
        (two.runners[0]?.assignedPartitions().length ?? 0) > 0 &&
        (one.runners[0]?.assignedPartitions().length ?? 0) + (two.runners[0]?.assignedPartitions().length ?? 0) === 3,
      60_000,
    );
    await ready(one);
    await ready(two);
    const onTwo = customers.filter((c) => two.runners[0]?.hasKey(c.id));
    expect(onTwo.length).toBeGreaterThan(0);
    expect(customers.filter((c) => one.runners[0]?.hasKey(c.id)).length + onTwo.length).toBe(customers.length);

    const collector = await new Collector(kafka).start(['churn.decisions.v1']);
    try {
      for (const c of customers) {
        await send(
          'customer.cancellations.v1',
          c.id,
          aCancellation({ customerId: c.id, reason: 'PRICE', occurredAt: NOW, effectiveAt: NOW + 30 * DAY }),
        );
      }
      const mine = () => collector.of('churn.decisions.v1', (r) => customers.some((c) => c.id === r.key));
      await collector.waitFor('a decision per customer', () => mine().length >= customers.length);
      await new Promise((r) => setTimeout(r, 500));
      expect(mine()).toHaveLength(customers.length);
      for (const c of customers) {
        const decision = mine().find((r) => r.key === c.id)?.value as ChurnDecision;
        expect(decision.value.tier).toBe(c.tier);
      }
    } finally {
      await collector.stop();
    }
  });
});
