/**
 * Logs never carry personal data or secrets: a run with bad records, dead letters and
 * a registry password, its every log line read back and searched.
 */
import type { RunningService } from '@churn/runtime';
import { decisionsTopologies } from '@churn/service-decisions';
import { signalsTopology } from '@churn/service-signals';
import { afterAll, describe, expect, it } from 'vitest';
import { Collector, connectWithTopics, testSerde } from './support/kafka.ts';
import { ready, startTestService, testPolicy } from './support/pipeline.ts';
import { expectLogsFreeOf, LogCapture, sendCustomerWithFreeText } from './support/privacy.ts';

describe('logs', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('carry no free text from records and no secrets, dead letters included', { timeout: 120_000 }, async () => {
    const logs = new LogCapture();
    const secret = `registry-secret-${crypto.randomUUID()}`;
    const privateText = `PRIVATE-${crypto.randomUUID()}`;
    const env = { LOG_LEVEL: 'debug', SCHEMA_REGISTRY_USERNAME: 'churn', SCHEMA_REGISTRY_PASSWORD: secret };
    const policy = testPolicy();
    const services: RunningService[] = [
      await startTestService('churn-decisions', decisionsTopologies(policy), env, logs.logger('churn-decisions')),
      await startTestService('churn-signals', [signalsTopology(policy)], env, logs.logger('churn-signals')),
    ];
    for (const s of services) cleanups.push(() => s.stop());
    for (const s of services) await ready(s);
    // The service's own configuration, logged by mistake, shows no password either.
    services[0]?.logger.info(
      { config: { SCHEMA_REGISTRY_PASSWORD: secret }, sasl: { password: secret } },
      'configuration',
    );

    const { kafka, producer } = await connectWithTopics();
    cleanups.push(() => producer.disconnect());
    const collector = await new Collector(kafka).start(['churn.decisions.v1', 'customer.cancellations.v1.dlq']);
    cleanups.push(() => collector.stop());
    const serde = testSerde();
    const send = async (topic: string, key: string, value: unknown) =>
      producer.send({ topic, messages: [{ key, value: await serde.encode(topic, value) }] });

    const { history: h, cancellation } = await sendCustomerWithFreeText(send, privateText);
    // The same record under a wrong key: a dead letter, logged with its reason.
    await send('customer.cancellations.v1', `wrong-${h.customerId}`, { ...cancellation, eventId: crypto.randomUUID() });

    await collector.waitFor(
      'the decision',
      () => collector.of('churn.decisions.v1', (r) => r.key === h.customerId).length > 0,
    );
    await collector.waitFor(
      'the dead letter',
      () => collector.of('customer.cancellations.v1.dlq', (r) => r.key === `wrong-${h.customerId}`).length > 0,
    );

    // The capture works: the run logged its start, its dead letter and a redacted field.
    expect(logs.text()).toContain('record sent to the dead-letter topic');
    expect(logs.text()).toContain('[redacted]');
    expectLogsFreeOf(logs.lines, [privateText, secret]);
  });
});
