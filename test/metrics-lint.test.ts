/**
 * What a running service serves on /metrics passes `promtool check metrics`, Prometheus'
 * own lint of the text format (names, suffixes, help, units), once the service has
 * processed records, so that its histograms and labelled series have samples. The
 * service is the engine as deployed: its own process, started by its main.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PipelineMetrics } from '@churn/runtime';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { findTool } from './kit/tools.ts';
import { aCancellationOf, aCustomerHistory } from './support/customers.ts';
import { connectWithTopics, emptyBroker, testSerde } from './support/kafka.ts';
import { eventually, serviceProcessEnv } from './support/pipeline.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const promtool = findTool('promtool');
/** Debian's promtool, and the one of the Prometheus version docker-compose.yml runs. */
const promtools = [promtool, findTool('promtool-compose')].filter((t): t is string => t !== undefined);

/** Runs `promtool check metrics` over a scrape; its exit code and what it printed. */
function checkMetrics(tool: string, text: string): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn(tool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
    child.stdin.end(text);
  });
}

/** The samples of a scrape whose metric name is `name`, as `{labels} value` lines. */
const samplesOf = (text: string, name: string) =>
  text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));

describe.skipIf(promtool === undefined)("a service's /metrics", () => {
  let producer: Producer;
  const serde = testSerde();

  beforeAll(async () => {
    // Nothing left by other tests on the inputs: the engine processes only what this test sends.
    await emptyBroker();
    ({ producer } = await connectWithTopics());
  });
  afterAll(async () => {
    await producer?.disconnect();
  });

  it('passes promtool check metrics with every kind of series filled', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, ['--conditions=source', resolve(repoRoot, 'services/engine/src/main.ts')], {
      cwd: repoRoot,
      env: serviceProcessEnv({ INSTANCE_ID: 'metrics-lint', LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      const bound = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(bound);
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });

    await eventually('the metrics endpoint', () => /"port":\d+/.test(log), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${log}`);
    });
    const base = `http://127.0.0.1:${/"port":(\d+)/.exec(log)?.[1]}`;
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    await eventually('the engine to be ready', async () => (await fetch(`${base}/readyz`)).status === 200, 60_000);

    // A customer, the cancellation decided on, and a record that cannot be decoded.
    const h = aCustomerHistory({ monthlyRevenue: 20_000, monthlyCost: 10_000 });
    const send = async (topic: string, key: string, value: unknown) =>
      producer.send({ topic, messages: [{ key, value: await serde.encode(topic as never, value) }] });
    await send('customer.profiles.v1', h.customerId, h.profile);
    for (const invoice of h.invoices) await send('billing.invoices.v1', h.customerId, invoice);
    await send('customer.cancellations.v1', h.customerId, aCancellationOf(h));
    await producer.send({
      topic: 'customer.cancellations.v1',
      messages: [{ key: h.customerId, value: Buffer.from('not avro at all') }],
    });

    // Every kind of series with samples: histograms, labelled counters and gauges.
    const wanted = [
      'churn_decision_latency_seconds_count',
      'churn_processing_duration_seconds_bucket',
      'churn_state_restore_duration_seconds_bucket',
      'churn_events_consumed_total',
      'churn_dead_letters_total',
      'churn_decisions_total',
      'churn_transactions_total',
      'churn_consumer_lag',
      'churn_ready',
    ];
    let text = '';
    await eventually(
      'samples of every kind, a decision and a dead letter among them',
      async () => {
        text = await scrape();
        return (
          wanted.every((name) => samplesOf(text, name).length > 0) &&
          samplesOf(text, 'churn_decision_latency_seconds_count').some((s) => !s.endsWith(' 0'))
        );
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${wanted.filter((n) => samplesOf(text, n).length === 0).join(', ')}\n${log}`);
    });

    // The scrape holds every family the services' registry declares.
    const declared = (await new PipelineMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    for (const name of declared) expect(text, name).toContain(`# TYPE ${name} `);

    for (const tool of promtools) {
      const lint = await checkMetrics(tool, text);
      expect(lint.out, tool).toBe('');
      expect(lint.code, tool).toBe(0);
    }
  });
});
