import { generatePopulation, SHAPES, servicesOf } from '@churn/cli';
import type { ChurnDecision } from '@churn/contracts';
import type { RunningService } from '@churn/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { Collector, connectWithTopics, emptyBroker, testSerde } from './support/kafka.ts';
import { eventually, ready, replayOutputs, startTestService, testPolicy, writeEvents } from './support/pipeline.ts';

const DAY = 86_400_000;
/** Whether every service has processed its inputs; says where the first that has not stands. */
function caughtUp(services: RunningService[]): boolean {
  const behind = services.flatMap((s) => s.runners).find((r) => !r.isCaughtUp());
  if (behind)
    lastBehind = `${behind.name}: ${JSON.stringify(behind.positions().filter((p) => p.fetched !== p.high || p.buffered > 0))}`;
  return behind === undefined;
}
let lastBehind = '';

const COMPARED = [
  'churn.customer-value.v1',
  'churn.decisions.v1',
  'contact-center.tasks.v1',
  'churn.alerts.v1',
] as const;

describe('replay and Kafka give the same outputs', () => {
  const stops: Array<() => Promise<void>> = [];
  // Each shape's services stop before the next shape empties the broker.
  afterEach(async () => {
    if (lastBehind) console.log(`last service behind: ${lastBehind}`);
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it.each(SHAPES)(
    'for 60 customers over 14 months, learning on, in the %s shape',
    { timeout: 300_000 },
    async (shape) => {
      const policy = testPolicy();
      expect(policy.learning.enabled).toBe(true);
      // Every service of the shape, as deployed. The cluster starts empty: the learning
      // snapshot and the structural count span customers, and would otherwise count what
      // earlier tests (and the other shape) left on the broker.
      const deployables = servicesOf(policy, shape);
      const { kafka, producer } = await connectWithTopics();
      stops.push(() => producer.disconnect());
      await emptyBroker();

      const events = generatePopulation({
        customers: 60,
        months: 14,
        seed: 7,
        idPrefix: 'rk-',
        start: Date.UTC(2025, 0, 1),
      });
      const file = writeEvents(events, 'replay');

      // The oracle: the in-process replay of the whole file.
      const oracle = await replayOutputs(file, policy);
      const expected = oracle.filter((r) => (COMPARED as readonly string[]).includes(r.topic));
      const count = (topic: string) => expected.filter((r) => r.topic === topic).length;
      expect(count('churn.decisions.v1')).toBeGreaterThan(5);
      expect(count('contact-center.tasks.v1')).toBeGreaterThan(20);
      // The loop ran: decisions used learning snapshots, and retention outcomes were counted.
      const decisions = expected.filter((r) => r.topic === 'churn.decisions.v1').map((r) => r.value as ChurnDecision);
      expect(decisions.every((d) => d.learnedAsOf !== null)).toBe(true);
      expect(decisions.some((d) => d.offersWeighed.some((o) => o.observedTries > 0))).toBe(true);
      const lastMidnight =
        Math.floor(Math.max(...events.map((e) => (e.value as { occurredAt: number }).occurredAt)) / DAY) * DAY;

      // The same file onto Kafka, in file order, while no service reads.
      const serde = testSerde();
      for (let i = 0; i < events.length; i += 500) {
        const slice = events.slice(i, i + 500);
        const messages = await Promise.all(
          slice.map(async (e) => ({ topic: e.topic, key: e.key, value: await serde.encode(e.topic, e.value) })),
        );
        for (const m of messages) await producer.send({ topic: m.topic, messages: [{ key: m.key, value: m.value }] });
      }

      const collector = await new Collector(kafka).start([...COMPARED]);
      stops.push(() => collector.stop());
      const services = await Promise.all(
        deployables.map((d) => startTestService(d.service, d.topologies, { MERGE_IDLE_MS: '30000' })),
      );
      stops.push(async () => {
        for (const s of services) await s.stop();
      });
      for (const s of services) await ready(s);
      await eventually('the services to catch up with the file', () => caughtUp(services), 180_000);
      // The replay's clock ends at the file's last midnight; take every partition there.
      for (const runner of services.flatMap((s) => s.runners)) await runner.advanceClock(lastMidnight);
      await collector.waitFor(
        `${expected.length} outputs`,
        () => COMPARED.reduce((n, t) => n + collector.of(t).length, 0) >= expected.length,
        120_000,
      );
      await eventually('the services to catch up after the last midnight', () => caughtUp(services), 60_000);
      await collector.readToEnd();

      const canonical = (records: Array<{ topic: string; value: unknown }>) =>
        records.map((r) => JSON.stringify({ topic: r.topic, value: r.value })).sort();
      const actual = COMPARED.flatMap((t) => collector.of(t).map((r) => ({ topic: t, value: r.value })));
      for (const topic of COMPARED) expect(actual.filter((r) => r.topic === topic).length, topic).toBe(count(topic));
      expect(canonical(actual)).toEqual(canonical(expected));
    },
  );
});
