import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChurnAlert, ChurnDecision, ContactTask } from '@churn/contracts';
import { loadPolicy, minorUnitsOf } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from './generate.ts';
import { formatLine, parseLine } from './offline.ts';
import { type DeadLine, type ReplayResult, replay } from './replay.ts';
import { churnctl, node, repoRoot } from './testing/command.ts';

const policy = loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));

/** The non-empty lines of a file of JSON lines. */
const jsonLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0);

/** What the library's replay of a file gives: the result, every output in the offline form, the dead letters. */
async function replayed(path: string): Promise<{ result: ReplayResult; lines: string[]; dead: DeadLine[] }> {
  const lines: string[] = [];
  const dead: DeadLine[] = [];
  const result = await replay(
    path,
    { policy },
    (record) => {
      lines.push(formatLine(record));
    },
    (_line, d) => {
      dead.push(d);
    },
  );
  return { result, lines, dead };
}

/** How many of `items` fall under each key. */
function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** Sums per currency, in major units as the summary shows them (rounded). */
function majorBy<T>(items: readonly T[], currency: (item: T) => string, minor: (item: T) => number) {
  const sums = new Map<string, number>();
  for (const item of items) sums.set(currency(item), (sums.get(currency(item)) ?? 0) + minor(item));
  return new Map([...sums].map(([cur, sum]) => [cur, Math.round(sum / minorUnitsOf(policy, cur))]));
}

/** A table of the summary: its title line's total and its rows, as printed. */
function tableOf(stdout: string, title: string): { total: number; rows: Map<string, number> } {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(title));
  expect(start, `the summary has a table "${title}"`).toBeGreaterThanOrEqual(0);
  const total = Number(/(-?\d+)$/.exec(lines[start] ?? '')?.[1]);
  const rows = new Map<string, number>();
  for (const line of lines.slice(start + 1)) {
    const row = /^ {2}(\S.*?)\s+(-?\d+)$/.exec(line);
    if (!row) break;
    rows.set(row[1] as string, Number(row[2]));
  }
  return { total, rows };
}

/** An amount line of the summary ("1 234 DKK, -5 EUR") as major units per currency. */
function amountsOf(stdout: string, label: string): Map<string, number> {
  const line = stdout.split('\n').find((l) => l.trimStart().startsWith(label));
  expect(line, `the summary has a line "${label}"`).toBeDefined();
  const text = (line as string).slice((line as string).indexOf(label) + label.length).trim();
  if (text === '0') return new Map();
  return new Map(
    text.split(', ').map((part) => {
      const m = /^(-?[\d ]+) ([A-Z]{3})$/.exec(part);
      expect(m, `an amount: "${part}"`).not.toBeNull();
      return [m?.[2] as string, Number(m?.[1]?.replace(/ /g, ''))] as const;
    }),
  );
}

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
    const bad = ['{not json', JSON.stringify({ topic: 'nope', key: 'x', value: {} })];
    const lines = [...good.slice(0, 3), ...bad, ...good.slice(3)];
    const lineOf = (text: string) => lines.indexOf(text) + 1;
    writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'good.jsonl'), `${good.join('\n')}\n`);
    const { stderr } = await churnctl('replay', '--in', join(dir, 'in.jsonl'), '--out', join(dir, 'out.jsonl'));
    expect(stderr).toContain(`line ${lineOf(bad[0] as string)}: CHURN_WIRE_FORMAT: not JSON`);
    expect(stderr).toContain(
      `line ${lineOf(bad[1] as string)}: CHURN_WIRE_FORMAT: topic: "nope" is not a topic of the contracts`,
    );
    const dead = jsonLines(join(dir, 'out.dlq.jsonl')).map(
      (l) => JSON.parse(l) as { line: number; code: string; original: string },
    );
    expect(dead.map((d) => [d.line, d.code, d.original])).toEqual(bad.map((b) => [lineOf(b), 'CHURN_WIRE_FORMAT', b]));
    // It carries on: every good line gives what it gives without the bad ones.
    const expected = await replayed(join(dir, 'good.jsonl'));
    expect(expected.dead).toEqual([]);
    expect(expected.result.outputs).toBeGreaterThan(0);
    expect(jsonLines(join(dir, 'out.jsonl'))).toEqual(expected.lines);
    expect(stderr).toContain(
      `replay: ${good.length} events in, ${expected.result.outputs} outputs out, ${bad.length} bad lines`,
    );
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
    expect(stderr).toContain(`line ${lines.length}: CHURN_UNKNOWN_CUSTOMER: churn-engine:`);
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
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain('--out is required');
  });
});

describe('npm start without Kafka', () => {
  it('runs every service in one process over the bundled sample, prints a summary and exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'churn-start-'));
    const sample = join(repoRoot, 'samples/sample.jsonl');
    const { stdout } = await node(['packages/cli/src/start.ts'], { CHURN_OUTPUT_DIR: out });
    expect(stdout).toContain('no KAFKA_BROKERS set');

    // Every output, one file per topic, is what the library's replay of the sample gives.
    const expected = await replayed(sample);
    const byTopic = new Map<string, string[]>();
    for (const line of expected.lines) {
      const topic = (JSON.parse(line) as { topic: string }).topic;
      byTopic
        .set(topic, byTopic.get(topic) ?? [])
        .get(topic)
        ?.push(line);
    }
    const files = readdirSync(out).sort();
    expect(files).toEqual([...byTopic.keys()].map((topic) => `${topic}.jsonl`).sort());
    for (const [topic, lines] of byTopic) expect(jsonLines(join(out, `${topic}.jsonl`)), topic).toEqual(lines);
    const counts = /(\d+) events in, (\d+) outputs out, (\d+) bad lines/.exec(stdout);
    expect(counts?.slice(1).map(Number)).toEqual([
      jsonLines(sample).length,
      expected.lines.length,
      expected.dead.length,
    ]);

    // The summary counts what the files hold.
    const values = <T>(topic: string) =>
      jsonLines(join(out, `${topic}.jsonl`)).map((l) => (JSON.parse(l) as { value: T }).value);
    const decisions = values<ChurnDecision>('churn.decisions.v1');
    const tasks = values<ContactTask>('contact-center.tasks.v1');
    const alerts = values<ChurnAlert>('churn.alerts.v1');
    for (const written of [decisions, tasks, alerts]) expect(written.length).toBeGreaterThan(0);
    expect(tableOf(stdout, 'Decisions (action / offer)')).toEqual({
      total: decisions.length,
      rows: countBy(decisions, (d) => `${d.action} / ${d.offer}`),
    });
    expect(tableOf(stdout, 'Tasks (queue / priority)')).toEqual({
      total: tasks.length,
      rows: countBy(tasks, (t) => `${t.queue.startsWith('owner:') ? 'owner:<named owner>' : t.queue} / ${t.priority}`),
    });
    expect(tableOf(stdout, 'Alerts (kind)')).toEqual({
      total: alerts.length,
      rows: countBy(alerts, (a) => `${a.kind} (${a.severity})`),
    });
    const winBack = decisions.filter((d) => d.action === 'WIN_BACK');
    const letGo = decisions.filter((d) => d.action !== 'WIN_BACK');
    expect(winBack.length).toBeGreaterThan(0);
    expect(letGo.length).toBeGreaterThan(0);
    const remaining = (ds: ChurnDecision[]) =>
      majorBy(
        ds,
        (d) => d.value.currency,
        (d) => d.value.remainingLifetimeValue,
      );
    expect(amountsOf(stdout, 'kept (win-back attempted):')).toEqual(remaining(winBack));
    expect(amountsOf(stdout, 'let go (graceful offboarding):')).toEqual(remaining(letGo));
    expect(amountsOf(stdout, 'expected value of chosen offers:')).toEqual(
      majorBy(
        decisions,
        (d) => d.value.currency,
        (d) => d.expectedValue,
      ),
    );
    expect(stdout).toContain(`Customer value snapshots: ${values('churn.customer-value.v1').length}\n`);
  });

  it('reports the bad lines of its input and writes them to dead-letters.jsonl', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churn-start-'));
    const good = generatePopulation({ customers: 4, months: 13, seed: 8 }).map((e) => JSON.stringify(e));
    const bad = ['not json either', JSON.stringify({ topic: 'customer.profiles.v1', key: 'x', value: {} })];
    const lines = [good[0] as string, bad[0] as string, ...good.slice(1, 5), bad[1] as string, ...good.slice(5)];
    writeFileSync(join(dir, 'in.jsonl'), `${lines.join('\n')}\n`);
    const out = join(dir, 'out');
    const { stdout } = await node(['packages/cli/src/start.ts'], {
      CHURN_INPUT: join(dir, 'in.jsonl'),
      CHURN_OUTPUT_DIR: out,
    });
    const dead = jsonLines(join(out, 'dead-letters.jsonl')).map(
      (l) => JSON.parse(l) as { line: number; code: string; original: string },
    );
    expect(dead.map((d) => [d.line, d.original])).toEqual(bad.map((b) => [lines.indexOf(b) + 1, b]));
    expect(dead.map((d) => d.code)).toEqual(bad.map((b) => (parseLine(b) as { code: string }).code));
    expect(stdout).toContain(`${good.length} events in, `);
    expect(stdout).toContain(`, ${bad.length} bad lines`);
  });
});
