/**
 * The follow-up program on Kafka, driven by the runner's clock, and the at-least-once
 * mode for those who prefer throughput.
 */
import type { ChurnAlert, ChurnDecision, ContactTask, CustomerValue } from '@churn/contracts';
import { aCancellation, aCustomerValue } from '@churn/contracts/testing';
import type { FollowUpState } from '@churn/domain';
import type { RunningService } from '@churn/runtime';
import { decisionsTopology } from '@churn/service-decisions';
import { followUpsTopology } from '@churn/service-follow-ups';
import type { Kafka, Producer } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Collector, connectWithTopics, testSerde } from './support/kafka.ts';
import { eventually, ready, startTestService, testPolicy } from './support/pipeline.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 8, 1, 8, 0, 0);

describe('the runner clock and the processing guarantees', () => {
  let kafka: Kafka;
  let producer: Producer;
  const serde = testSerde();
  const running: RunningService[] = [];
  const send = async (topic: string, key: string, value: unknown) =>
    producer.send({ topic, messages: [{ key, value: await serde.encode(topic as never, value) }] });
  const snapshot = (customerId: string): CustomerValue =>
    aCustomerValue({
      customerId,
      asOf: NOW,
      tier: 'A',
      track: 'RETAIN',
      revenue12m: 60_000_000,
      margin12m: 30_000_000,
      remainingLifetimeValue: 120_000_000,
      accountManager: 'am-031',
      signedUpAt: NOW - 400 * DAY,
    });

  beforeAll(async () => {
    ({ kafka, producer } = await connectWithTopics());
    return () => producer.disconnect();
  });

  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  it('creates a weekly follow-up for a tier A customer when it is due, and alerts the owner when nobody follows it', async () => {
    const service = await startTestService('churn-follow-ups', [followUpsTopology(testPolicy())]);
    running.push(service);
    await ready(service);
    const id = `clock-${crypto.randomUUID().slice(0, 8)}`;
    await send('churn.customer-value.v1', id, snapshot(id));
    const runner = service.runners[0];
    await eventually(
      'the follow-up service to know the customer',
      () => (runner?.stateOf(id) as FollowUpState | undefined)?.value?.customerId === id,
    );
    const collector = await new Collector(kafka).start(['contact-center.tasks.v1', 'churn.alerts.v1']);
    try {
      expect(await runner?.tickAll(NOW)).toBeGreaterThan(0);
      await collector.waitFor(
        'the follow-up task',
        () => collector.of('contact-center.tasks.v1', (r) => r.key === id).length > 0,
      );
      const task = collector.of('contact-center.tasks.v1', (r) => r.key === id)[0]?.value as ContactTask;
      expect(task).toMatchObject({ kind: 'FOLLOW_UP', queue: 'owner:am-031', offer: 'NONE' });
      expect(task.dueAt - NOW).toBe(2 * DAY); // grace: 20% of a week, at least 2 days

      await runner?.tickAll(NOW + 3 * DAY);
      await collector.waitFor(
        'the not-followed alert',
        () => collector.of('churn.alerts.v1', (r) => r.key === id).length > 0,
      );
      expect(collector.of('churn.alerts.v1', (r) => r.key === id)[0]?.value as ChurnAlert).toMatchObject({
        kind: 'PROGRAM_NOT_FOLLOWED',
        owner: 'am-031',
      });
      // The clock step's state went to the changelog with the outputs: a restart would not repeat them.
      expect((runner?.stateOf(id) as FollowUpState).open?.alerted).toBe(true);
    } finally {
      await collector.stop();
    }
  });

  it('decides with PROCESSING_GUARANTEE=at_least_once as well', async () => {
    const service = await startTestService('churn-decisions', [decisionsTopology(testPolicy())], {
      PROCESSING_GUARANTEE: 'at_least_once',
    });
    running.push(service);
    await ready(service);
    const id = `alo-${crypto.randomUUID().slice(0, 8)}`;
    await send('churn.customer-value.v1', id, snapshot(id));
    await eventually('the decisions service to know the customer', () => service.runners[0]?.hasKey(id) === true);
    const collector = await new Collector(kafka).start(['churn.decisions.v1']);
    try {
      await send(
        'customer.cancellations.v1',
        id,
        aCancellation({ customerId: id, reason: 'COMPETITOR', occurredAt: NOW, effectiveAt: NOW + 30 * DAY }),
      );
      await collector.waitFor('the decision', () => collector.of('churn.decisions.v1', (r) => r.key === id).length > 0);
      const decision = collector.of('churn.decisions.v1', (r) => r.key === id)[0]?.value as ChurnDecision;
      expect(decision).toMatchObject({ action: 'WIN_BACK', offer: 'EXECUTIVE_ESCALATION', tier: 'A' });
      const transactions = await service.metrics.registry.getSingleMetricAsString('churn_transactions_total');
      expect(transactions).not.toMatch(/churn_transactions_total\{[^}]*\} [1-9]/);
    } finally {
      await collector.stop();
    }
  });
});
