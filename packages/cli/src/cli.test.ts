import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from './generate.ts';
import { parseLine } from './offline.ts';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../../..');
const node = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--conditions=source', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
const churnctl = (...args: string[]) => node(['packages/cli/src/churnctl.ts', ...args]);

describe('churnctl generate', () => {
  it('gives the same file for the same seed and another for another seed', () => {
    const a = generatePopulation({ customers: 30, months: 13, seed: 1 });
    const b = generatePopulation({ customers: 30, months: 13, seed: 1 });
    const c = generatePopulation({ customers: 30, months: 13, seed: 2 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('writes events that all keep the contracts, in time order, with every kind of input', () => {
    const events = generatePopulation({ customers: 80, months: 14, seed: 3 });
    const topics = new Set(events.map((e) => e.topic));
    expect([...topics].sort()).toEqual([
      'billing.invoices.v1',
      'contact-center.task-outcomes.v1',
      'customer.cancellations.v1',
      'customer.profiles.v1',
      'customer.surveys.v1',
    ]);
    for (const e of events) expect(parseLine(JSON.stringify(e))).toMatchObject({ ok: true });
    const times = events.map((e) => (e.value as { occurredAt: number }).occurredAt);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });
});

describe('churnctl replay', () => {
  it('reports bad lines with their number, writes them to the dead-letter file, and carries on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churnctl-'));
    const good = generatePopulation({ customers: 5, months: 13, seed: 4 }).map((e) => JSON.stringify(e));
    const lines = [
      ...good.slice(0, 3),
      '{not json',
      JSON.stringify({ topic: 'nope', key: 'x', value: {} }),
      ...good.slice(3),
    ];
    writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    const { stderr } = await churnctl('replay', '--in', join(dir, 'in.jsonl'), '--out', join(dir, 'out.jsonl'));
    expect(stderr).toContain('line 4: CHURN_WIRE_FORMAT: not JSON');
    expect(stderr).toContain('line 5: CHURN_WIRE_FORMAT: topic: "nope" is not a topic of the contracts');
    const dead = readFileSync(join(dir, 'out.dlq.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; original: string });
    expect(dead.map((d) => d.line)).toEqual([4, 5]);
    expect(dead[0]?.original).toBe('{not json');
    const outputs = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
    expect(outputs.length).toBeGreaterThan(good.length / 2);
  });

  it('refuses a cancellation for a customer without a profile: a dead letter, no decision, no structural count', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churnctl-'));
    const good = generatePopulation({ customers: 3, months: 13, seed: 6 });
    const stranger = {
      topic: 'customer.cancellations.v1',
      key: 'cust-stranger',
      value: {
        eventId: '00000000-0000-4000-8000-00000000abcd',
        occurredAt: (good[good.length - 1]!.value as { occurredAt: number }).occurredAt,
        cancellationId: 'canc-stranger',
        customerId: 'cust-stranger',
        subscriptionId: null,
        effectiveAt: null,
        channel: 'WEB',
        reason: 'PRODUCT_GAP',
        reasonText: null,
      },
    };
    const lines = [...good, stranger].map((e) => JSON.stringify(e));
    writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    const { stderr } = await churnctl('replay', '--in', join(dir, 'in.jsonl'), '--out', join(dir, 'out.jsonl'));
    expect(stderr).toContain(`line ${lines.length}: CHURN_UNKNOWN_CUSTOMER: churn-decisions:`);
    const dead = readFileSync(join(dir, 'out.dlq.jsonl'), 'utf8').trim().split('\n');
    expect(dead.map((l) => JSON.parse(l).code)).toEqual(['CHURN_UNKNOWN_CUSTOMER']);
    const outputs = readFileSync(join(dir, 'out.jsonl'), 'utf8');
    expect(outputs).not.toContain('cust-stranger');
  });

  it('writes byte-identical outputs when the same file is replayed twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churnctl-'));
    writeFileSync(
      join(dir, 'in.jsonl'),
      `${generatePopulation({ customers: 40, months: 14, seed: 5 })
        .map((e) => JSON.stringify(e))
        .join('\n')}\n`,
    );
    await churnctl(
      'replay',
      '--in',
      join(dir, 'in.jsonl'),
      '--out',
      join(dir, 'a.jsonl'),
      '--until',
      '2026-06-01T00:00:00Z',
    );
    await churnctl(
      'replay',
      '--in',
      join(dir, 'in.jsonl'),
      '--out',
      join(dir, 'b.jsonl'),
      '--until',
      '2026-06-01T00:00:00Z',
    );
    const a = readFileSync(join(dir, 'a.jsonl'), 'utf8');
    expect(a.length).toBeGreaterThan(1000);
    expect(readFileSync(join(dir, 'b.jsonl'), 'utf8')).toBe(a);
    expect(a).toContain('"topic":"churn.decisions.v1"');
  });

  it('explains its usage when a required option is missing', async () => {
    const error = await churnctl('replay', '--in', 'x.jsonl').catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(error).toMatchObject({ code: 64 });
    expect((error as { stderr: string }).stderr).toContain('--out is required');
  });
});

describe('npm start without Kafka', () => {
  it('runs every service in one process over the bundled sample, prints a summary and exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'churn-start-'));
    const { stdout } = await node(['packages/cli/src/start.ts'], { CHURN_OUTPUT_DIR: out });
    expect(stdout).toContain('no KAFKA_BROKERS set');
    expect(stdout).toMatch(/\d+ events in, \d+ outputs out, 0 bad lines/);
    expect(stdout).toContain('Decisions (action / offer)');
    expect(stdout).toContain('Tasks (queue / priority)');
    expect(stdout).toContain('Alerts (kind)');
    expect(stdout).toContain('Value at stake');
    const files = readdirSync(out).sort();
    expect(files).toContain('churn.decisions.v1.jsonl');
    expect(files).toContain('contact-center.tasks.v1.jsonl');
    const decisions = readFileSync(join(out, 'churn.decisions.v1.jsonl'), 'utf8').trim().split('\n');
    expect(parseLine(decisions[0] ?? '')).toMatchObject({ ok: true });
  });
});
