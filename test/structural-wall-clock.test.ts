/**
 * A structural issue, live: once cancellations stop arriving, only the wall clock moves
 * the decision partitions' clocks past them, and with them the watermarks the structural
 * count waits for. Nothing in this test moves a clock by hand.
 */
import type { ChurnAlert, ChurnDecision } from '@churn/contracts';
import type { StructuralIssueState } from '@churn/domain';
import type { RunningService } from '@churn/runtime';
import { decisionsTopologies } from '@churn/service-decisions';
import { structuralIssuesTopology, structuralRouteTopology } from '@churn/service-structural';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCancellationOf, aCustomerHistory } from './support/customers.ts';
import { Collector, connectWithTopics, testSerde } from './support/kafka.ts';
import { eventually, ready, startTestService, testPolicy } from './support/pipeline.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const midnightOf = (t: number) => Math.floor(t / DAY) * DAY;

describe('the structural count on the wall clock', () => {
  const policy = testPolicy();
  const serde = testSerde();
  const reason = 'PRODUCT_GAP' as const;
  let kafka: Kafka;
  let producer: Producer;
  const running: RunningService[] = [];
  /** The services' time source, moved by the test as a day would pass. */
  let wallClock = Date.now();
  const send = async (topic: string, key: string, value: unknown) =>
    producer.send({ topic, messages: [{ key, value: await serde.encode(topic as never, value) }] });

  beforeAll(async () => {
    ({ kafka, producer } = await connectWithTopics());
  });

  afterAll(async () => {
    for (const s of running.splice(0)) await s.stop();
    await producer?.disconnect();
  });

  it('alerts management a day after the last cancellation, moved on by the wall clock alone', async () => {
    // Decisions without a wall clock: the route below is what the test is about.
    const decisions = await startTestService('churn-decisions', decisionsTopologies(policy));
    running.push(decisions);
    const structural = await startTestService(
      'churn-structural',
      [structuralRouteTopology(policy), structuralIssuesTopology(policy)],
      { TICK_INTERVAL_MS: '100' },
      undefined,
      () => wallClock,
    );
    running.push(structural);
    await ready(decisions);
    await ready(structural);
    const [route, count] = structural.runners;
    await eventually('the route to catch up', () => route?.isCaughtUp() === true);
    await eventually('the count to catch up', () => count?.isCaughtUp() === true);

    // Earlier runs against the same broker moved the clocks and the count on: this run's
    // day starts after all of that, and a window after the count's last alert.
    const known = count?.stateOf(reason) as StructuralIssueState | undefined;
    const latest = Math.max(
      Date.now(),
      ...[...(route?.clocks().values() ?? [])].map((c) => c ?? 0),
      known?.latest ?? 0,
      ...(known?.marks ?? []),
      (known?.alertedAt ?? 0) + policy.structural.windowDays * DAY,
    );
    const day = midnightOf(latest) + 2 * DAY;
    wallClock = day + 8 * HOUR;

    const n = policy.structural.minCustomers;
    const histories = Array.from({ length: n }, (_, i) =>
      aCustomerHistory({ monthlyRevenue: 500, monthlyCost: 300, now: day + 9 * HOUR + i * HOUR }),
    );
    const collector = await new Collector(kafka).start(['churn.decisions.v1', 'churn.alerts.v1']);
    try {
      for (const h of histories) {
        await send('customer.profiles.v1', h.customerId, h.profile);
        for (const invoice of h.invoices) await send('billing.invoices.v1', h.customerId, invoice);
      }
      await eventually('the decision service to know the customers', () =>
        histories.every((h) => decisions.runners[0]?.hasKey(h.customerId) === true),
      );
      const cancellations = histories.map((h) => aCancellationOf(h, { reason, effectiveAt: null }));
      for (const c of cancellations) await send('customer.cancellations.v1', c.customerId, c);
      const ours = new Set(cancellations.map((c) => c.eventId));
      const decided = () =>
        collector.of('churn.decisions.v1', (r) => ours.has((r.value as ChurnDecision).causationId)).length;
      await collector.waitFor('a decision on each cancellation', () => decided() === n);

      const alerts = () =>
        collector
          .of('churn.alerts.v1', (r) => (r.value as ChurnAlert).kind === 'STRUCTURAL_ISSUE')
          .filter((r) => ours.has((r.value as ChurnAlert).causationId));
      const pendingOurs = () =>
        ((count?.stateOf(reason) as StructuralIssueState | undefined)?.pending ?? []).filter((p) => ours.has(p.eventId))
          .length;
      // Every cancellation has reached the count, and waits there: no partition has passed
      // the day yet, though the wall clock has moved every one of them on to it.
      await eventually('the cancellations to wait in the count', () => pendingOurs() === n);
      await eventually('the wall clock to move every decision partition on to the day', () =>
        [...(route?.clocks().values() ?? [])].every((c) => c === day),
      );
      expect(alerts()).toHaveLength(0);

      // The next day: no record arrives, and the wall clock alone moves the partitions on.
      wallClock = day + DAY + HOUR;
      await collector.waitFor('the structural issue alert', () => alerts().length > 0);
      expect(alerts()).toHaveLength(1);
      const alert = alerts()[0];
      expect(alert?.key).toBe(reason);
      expect(alert?.value).toMatchObject({
        kind: 'STRUCTURAL_ISSUE',
        customerId: null,
        owner: policy.owners.management,
      });
      // The alert counts the nth customer's cancellation, the last of the day.
      expect((alert?.value as ChurnAlert | undefined)?.causationId).toBe(cancellations.at(-1)?.eventId);
      expect([...(route?.clocks().values() ?? [])].every((c) => c === day + DAY)).toBe(true);
      expect(pendingOurs()).toBe(0);
    } finally {
      await collector.stop();
    }
  });
});
