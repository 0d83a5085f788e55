/**
 * `churnctl produce` as users run it: a file of offline-form lines onto the input topics,
 * the good lines produced, each bad one reported with its line number, and exit code 1
 * when any was rejected.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatLine } from '@churn/cli';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { aCustomerHistory } from './support/customers.ts';
import { Collector, connectWithTopics } from './support/kafka.ts';

const root = join(import.meta.dirname, '..');
const churnctl = join(root, 'packages/cli/bin/churnctl.js');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [churnctl, ...args],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: inject('kafkaBrokers'),
          SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
          LOG_LEVEL: 'warn',
        },
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('churnctl produce', () => {
  const dir = mkdtempSync(join(tmpdir(), 'churnctl-produce-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('produces the good lines keyed by customerId, reports each bad one by line, and exits 1', {
    timeout: 120_000,
  }, async () => {
    const h = aCustomerHistory({ monthlyRevenue: 5_000, monthlyCost: 2_000 });
    const good = [
      { topic: 'customer.profiles.v1', key: h.customerId, value: h.profile },
      ...h.invoices.slice(0, 2).map((value) => ({ topic: 'billing.invoices.v1', key: h.customerId, value })),
    ];
    const lines = [
      formatLine(good[0] as (typeof good)[number]),
      'not json at all',
      formatLine(good[1] as (typeof good)[number]),
      formatLine({ topic: 'no.such.topic.v1', key: h.customerId, value: h.profile }),
      formatLine({ topic: 'billing.invoices.v1', key: h.customerId, value: { ...h.invoices[0], amount: 'lots' } }),
      formatLine(good[2] as (typeof good)[number]),
    ];
    const file = join(dir, 'input.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const { code, stderr } = await run(['produce', '--in', file]);
    expect(code, stderr).toBe(1);
    const rejected = [...stderr.matchAll(/^produce: line (\d+) not produced: (.+)$/gm)].map((m) => Number(m[1]));
    expect(rejected).toEqual([2, 4, 5]);
    expect(stderr).toContain(`produce: ${good.length} records produced, 3 lines rejected`);

    const { kafka, producer } = await connectWithTopics();
    await producer.disconnect();
    const collector = await new Collector(kafka).start(['customer.profiles.v1', 'billing.invoices.v1']);
    try {
      const mine = () => collector.records.filter((r) => r.key === h.customerId);
      await collector.waitFor('the good lines', () => mine().length === good.length);
      expect(
        mine()
          .map((r) => [r.topic, r.value])
          .sort(),
      ).toEqual(good.map((g) => [g.topic, g.value]).sort());
    } finally {
      await collector.stop();
    }
  });

  it('exits 0 when every line is produced', async () => {
    const h = aCustomerHistory({ monthlyRevenue: 5_000, monthlyCost: 2_000 });
    const file = join(dir, 'clean.jsonl');
    writeFileSync(file, `${formatLine({ topic: 'customer.profiles.v1', key: h.customerId, value: h.profile })}\n`);
    const { code, stderr } = await run(['produce', '--in', file]);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('produce: 1 records produced, 0 lines rejected');
  });
});
