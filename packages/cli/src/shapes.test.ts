/**
 * The two deployment shapes over one file: the engine (every customer-scoped processor
 * on one read and one state per customer) and one topology per service give the same
 * records on every topic, internal ones included, ids and contents alike, under the
 * default policy, with learning off, and with an experiment and a shadow policy. The
 * Kafka side of the same claim is test/replay-vs-kafka.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy, mergeDocuments, type Policy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { generatePopulation } from './generate.ts';
import { formatLine } from './offline.ts';
import { type DeadLine, replay } from './replay.ts';
import { allTopologies, type Shape } from './topologies.ts';

const base = readJsonFile(DEFAULT_POLICY_FILE) as Record<string, unknown>;
let history: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'churn-shapes-'));
  history = join(dir, 'history.jsonl');
  const events = generatePopulation({ customers: 150, months: 14, seed: 17 });
  // A cancellation for a customer never seen: refused in both shapes, the same way.
  const stranger = { ...events.find((e) => e.topic === 'customer.cancellations.v1')! };
  stranger.key = 'cust-nobody';
  stranger.value = { ...(stranger.value as object), customerId: 'cust-nobody', eventId: 'cancel-nobody' };
  events.push(stranger);
  writeFileSync(history, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
});

async function run(policy: Policy, shape: Shape) {
  const byTopic = new Map<string, string[]>();
  const dead: DeadLine[] = [];
  const result = await replay(
    history,
    { policy, shape, internal: true, until: Date.UTC(2026, 5, 1) },
    (record) => {
      const lines = byTopic.get(record.topic) ?? [];
      lines.push(formatLine(record));
      byTopic.set(record.topic, lines);
    },
    (_line, d) => {
      dead.push(d);
    },
  );
  for (const lines of byTopic.values()) lines.sort();
  return { byTopic, dead, refused: result.deadLetters };
}

async function expectSameOutputs(policy: Policy) {
  const engine = await run(policy, 'engine');
  const services = await run(policy, 'services');
  expect([...engine.byTopic.keys()].sort()).toEqual([...services.byTopic.keys()].sort());
  for (const [topic, lines] of services.byTopic) {
    expect(engine.byTopic.get(topic), topic).toEqual(lines);
  }
  expect(engine.refused).toEqual(services.refused);
  return engine;
}

describe('the engine and the per-service shape', () => {
  it('give the same records on every topic under the default policy', async () => {
    const engine = await expectSameOutputs(loadPolicy(base));
    // The comparison covers what the pipeline does: decisions, tasks, alerts, values, learning.
    for (const topic of [
      'churn.decisions.v1',
      'contact-center.tasks.v1',
      'churn.alerts.v1',
      'churn.customer-value.v1',
    ]) {
      expect(engine.byTopic.get(topic)?.length ?? 0, topic).toBeGreaterThan(0);
    }
    expect(engine.byTopic.get('churn-learning.snapshots')?.length ?? 0).toBeGreaterThan(0);
  });

  it('give the same records with learning off', async () => {
    const engine = await expectSameOutputs(loadPolicy(mergeDocuments(base, { learning: { enabled: false } })));
    expect(engine.byTopic.has('churn-learning.events')).toBe(false);
  });

  it('give the same records with an experiment and a shadow policy', async () => {
    const doc = JSON.parse(readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
    doc.experiment = {
      name: 'shapes',
      arms: [
        { name: 'control', share: 0.5 },
        { name: 'generous', share: 0.5, overrides: { offers: { PRICE: { DOWNGRADE: { probability: 0.8 } } } } },
      ],
    };
    doc.shadow = { overrides: { version: 'shadow-1' } };
    const engine = await expectSameOutputs(loadPolicy(doc));
    expect(engine.byTopic.get('churn.decisions.shadow.v1')?.length ?? 0).toBeGreaterThan(0);
  });

  it('the engine runs one customer-scoped topology where the services run four', () => {
    const policy = loadPolicy(base);
    const customerScoped = (shape: Shape) =>
      allTopologies(policy, shape)
        .filter((t) => t.inputs.includes('customer.profiles.v1'))
        .map((t) => t.name);
    expect(customerScoped('engine')).toEqual(['churn-engine']);
    expect(customerScoped('services')).toHaveLength(4);
  });
});
