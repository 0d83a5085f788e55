/**
 * State lives in memory per partition and is backed by a changelog topic: a restarted
 * service restores it before it processes, and when a second instance joins, the
 * partitions it takes over bring their state with them. Both for the decision service
 * (JSON state, kept as objects) and the engine (Avro state, kept encoded in memory).
 */
import type { ChurnDecision } from '@churn/contracts';
import type { RunningService } from '@churn/runtime';
import { decisionsTopologies } from '@churn/service-decisions';
import { engineTopologies } from '@churn/service-engine';
import type { Kafka, Producer } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aCancellationOf, aCustomerHistory, type History } from './support/customers.ts';
import { Collector, connectWithTopics, emptyBroker, testSerde } from './support/kafka.ts';
import { eventually, ready, startTestService, testPolicy } from './support/pipeline.ts';

/** Monthly revenue (major units) that puts a B2B customer in each tier. */
const MONTHLY = { A: 60_000, B: 20_000, C: 3_000 } as const;

/** The services under test: the topologies, and the revenue a state knows for its customer. */
const SETUPS = [
  {
    service: 'churn-decisions',
    topologies: () => decisionsTopologies(testPolicy()),
    revenueOf: (state: unknown) =>
      (state as { own?: { value?: { revenue12m: number } | null } } | undefined)?.own?.value?.revenue12m,
  },
  {
    service: 'churn-engine',
    topologies: () => engineTopologies(testPolicy()),
    revenueOf: (state: unknown) =>
      (state as { decisions?: { value?: { revenue12m: number } | null } } | undefined)?.decisions?.value?.revenue12m,
  },
] as const;

describe.each(SETUPS)('state restored from the changelog: $service', ({ service: name, topologies, revenueOf }) => {
  let kafka: Kafka;
  let producer: Producer;
  const serde = testSerde();
  const running: RunningService[] = [];
  const start = async (instance: string) => {
    const service = await startTestService(name, topologies(), {
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
  /** Sends the history; gives the partition its customer's records are on. */
  const sendHistory = async (h: History): Promise<number> => {
    const [sent] = await send('customer.profiles.v1', h.customerId, h.profile);
    for (const invoice of h.invoices) await send('billing.invoices.v1', h.customerId, invoice);
    if (sent === undefined) throw new Error(`no partition for ${h.customerId}`);
    return sent.partition;
  };
  const historyOf = (tier: keyof typeof MONTHLY) =>
    aCustomerHistory({ monthlyRevenue: MONTHLY[tier], monthlyCost: MONTHLY[tier] / 2, accountManager: `am-${tier}` });
  /** The revenue the decision service knows for a customer, once all its invoices are in. */
  const knows = (service: RunningService, h: History) =>
    revenueOf(service.runners[0]?.stateOf(h.customerId)) ===
    h.invoices.filter((i) => i.status === 'ISSUED').reduce((s, i) => s + i.amount, 0);

  /**
   * Customers known by their profile, one on each partition of the input topics: a
   * marker's cancellation, sent after others, is decided after them on its partition.
   */
  const markersOnEveryPartition = async (): Promise<History[]> => {
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: ['customer.profiles.v1'] }).finally(() => admin.disconnect());
    const partitions = meta.topics[0]?.partitions.length ?? 0;
    expect(partitions).toBeGreaterThan(0);
    const markers = new Map<number, History>();
    for (let tries = 0; markers.size < partitions; tries++) {
      if (tries === 200) throw new Error(`no marker customer for some of the ${partitions} partitions`);
      const h = historyOf('C');
      const [sent] = await send('customer.profiles.v1', h.customerId, h.profile);
      if (sent && !markers.has(sent.partition)) markers.set(sent.partition, h);
    }
    return [...markers.values()];
  };

  beforeAll(async () => {
    // An empty cluster: the decision service's partitions would otherwise take in what
    // earlier tests left on its input topics, and their clocks move on past this file's
    // histories (idle partitions follow the furthest one), rolling the values' windows.
    await emptyBroker();
    ({ kafka, producer } = await connectWithTopics());
    return async () => {
      await producer.disconnect();
    };
  });

  afterEach(async () => {
    for (const service of [...running]) await stop(service);
  });

  it('continues after a restart with the customer values it knew before', async () => {
    const customers = Array.from({ length: 6 }, () => historyOf('A'));
    const first = await start('first');
    await ready(first);
    for (const h of customers) await sendHistory(h);
    await eventually('the histories to be kept', () => customers.every((h) => knows(first, h)));
    await stop(first);

    const second = await start('second');
    await ready(second);
    // Restored before processing: the values are there without any new input.
    expect(customers.every((h) => knows(second, h))).toBe(true);
    const restores = await second.metrics.registry.getSingleMetricAsString('churn_state_restore_duration_seconds');
    expect(restores).toMatch(new RegExp(`churn_state_restore_duration_seconds_count\\{service="${name}"\\} [1-9]`));

    const collector = await new Collector(kafka).start(['churn.decisions.v1']);
    try {
      for (const h of customers)
        await send('customer.cancellations.v1', h.customerId, aCancellationOf(h, { reason: 'PRICE' }));
      const ids = new Set(customers.map((h) => h.customerId));
      const mine = () => collector.of('churn.decisions.v1', (r) => ids.has(r.key ?? ''));
      await collector.waitFor('a decision per customer', () => mine().length >= customers.length);
      // A decision made without the restored value would see an unknown customer (tier D, no revenue).
      expect(mine().map((r) => (r.value as ChurnDecision).value.tier)).toEqual(customers.map(() => 'A'));
      // The 12-month window at the cancellation holds 11 or 12 of the monthly 6 000 000 invoices.
      for (const r of mine()) expect((r.value as ChurnDecision).value.revenue12m).toBeGreaterThanOrEqual(66_000_000);
    } finally {
      await collector.stop();
    }
  });

  it('moves state with the partitions when a second instance joins, and no decision changes', async () => {
    const customers = Array.from({ length: 12 }, (_, i) => {
      const tier = (['A', 'B', 'C'] as const)[i % 3] as keyof typeof MONTHLY;
      return { tier, history: historyOf(tier) };
    });
    const one = await start('one');
    await ready(one);
    const partitionOf = new Map<string, number>();
    for (const c of customers) partitionOf.set(c.history.customerId, await sendHistory(c.history));
    const markers = await markersOnEveryPartition();
    await eventually(
      'the histories to be kept',
      () => customers.every((c) => knows(one, c.history)) && markers.every((m) => one.runners[0]?.hasKey(m.customerId)),
    );

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
    // Each customer's state is on the instance its partition went to. Twelve random
    // customers may all be on one's partitions; the markers, one per partition, are not.
    const twos = new Set(two.runners[0]?.assignedPartitions());
    for (const c of customers) {
      const owner = twos.has(partitionOf.get(c.history.customerId) as number) ? two : one;
      expect(knows(owner, c.history), c.history.customerId).toBe(true);
    }
    const movedMarkers = markers.filter((m) => two.runners[0]?.hasKey(m.customerId));
    expect(movedMarkers.length).toBe(twos.size);
    expect(markers.filter((m) => one.runners[0]?.hasKey(m.customerId)).length).toBe(markers.length - twos.size);

    const collector = await new Collector(kafka).start(['churn.decisions.v1']);
    try {
      for (const c of customers) {
        await send('customer.cancellations.v1', c.history.customerId, aCancellationOf(c.history, { reason: 'PRICE' }));
      }
      // Then a marker's cancellation on every partition. Once each marker's decision is
      // read, every decision the two instances wrote for the cancellations before it on
      // its partition has been read as well, duplicates included.
      for (const m of markers)
        await send('customer.cancellations.v1', m.customerId, aCancellationOf(m, { reason: 'PRICE' }));
      const ids = new Set(customers.map((c) => c.history.customerId));
      const markerIds = new Set(markers.map((m) => m.customerId));
      const mine = () => collector.of('churn.decisions.v1', (r) => ids.has(r.key ?? ''));
      const marked = () => collector.of('churn.decisions.v1', (r) => markerIds.has(r.key ?? ''));
      await collector.waitFor(
        'every marker to be decided',
        () => new Set(marked().map((r) => r.key)).size === markers.length,
      );
      // Each marker's decision sits on its input's partition, so together they cover every
      // partition a customer's decision can be on.
      expect(new Set(marked().map((r) => r.partition)).size).toBe(markers.length);
      expect(marked()).toHaveLength(markers.length);
      expect(mine()).toHaveLength(customers.length);
      for (const c of customers) {
        const decisions = mine().filter((r) => r.key === c.history.customerId);
        expect(decisions).toHaveLength(1);
        expect((decisions[0]?.value as ChurnDecision | undefined)?.value.tier).toBe(c.tier);
      }
    } finally {
      await collector.stop();
    }
  });
});
