import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import type { SimulateReport } from './simulate.ts';
import { churnctl } from './testing/command.ts';

/** The report without its wall times, which differ from run to run. */
function numbers(report: SimulateReport): unknown {
  return JSON.parse(JSON.stringify(report, (key, value) => (key === 'wallMs' ? undefined : value)));
}

describe('churnctl simulate', () => {
  it('runs a policy through the pipeline month by month and reports early, late and total shares, the same for a seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churnctl-simulate-'));
    const months = 8;
    const args = ['simulate', '--customers', '60', '--months', String(months), '--seed', '7'];
    const first = await churnctl(...args, '--json', join(dir, 'a.json'));
    const second = await churnctl(...args, '--json', join(dir, 'b.json'));
    const a = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as SimulateReport;
    const b = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as SimulateReport;

    for (let m = 1; m <= months; m++)
      expect(first.stderr).toMatch(new RegExp(`month ${m} of ${months}: \\d+ cancellations`));
    expect(first.stderr).toMatch(/outcomes fed back/);
    expect(first.stdout).toContain('default-');
    expect(first.stdout).toContain('mean of 1');

    expect(a.runs).toHaveLength(1);
    const r = a.runs[0]!;
    expect(r.seed).toBe(7);
    expect(r.cancellations).toBeGreaterThan(0);
    expect(r.undecided).toBe(0);
    expect(r.deadLetters).toBe(0);
    expect(r.outcomes).toBeGreaterThanOrEqual(r.winBacks);
    expect(r.saved).toBeLessThanOrEqual(r.winBacks);
    expect(r.byMonth).toHaveLength(months);
    expect(a.third).toBeGreaterThan(0);
    expect(r.early.cancellations).toBe(r.byMonth.slice(0, a.third).reduce((s, m) => s + m.cancellations, 0));
    expect(r.late.cancellations).toBe(r.byMonth.slice(months - a.third).reduce((s, m) => s + m.cancellations, 0));
    expect(r.early.cancellations).toBeGreaterThan(0);
    expect(r.late.cancellations).toBeGreaterThan(0);
    expect(r.total.cancellations).toBe(r.cases.length);
    for (const part of [r.early, r.late, r.total]) {
      expect(part.share).not.toBeNull();
      expect(part.share).toBeGreaterThanOrEqual(0);
      expect(part.share).toBeLessThanOrEqual(1);
      expect(part.kept).toBeLessThanOrEqual(part.oracle);
    }
    for (const c of r.cases) expect(c.kept).toBeLessThanOrEqual(c.oracle);
    expect(a.means[0]?.total).toBe(r.total.share);

    expect(numbers(b)).toEqual(numbers(a));
    expect(second.stdout.replace(/ +\d+\.\d\n/g, '\n')).toBe(first.stdout.replace(/ +\d+\.\d\n/g, '\n'));
  });

  it('puts every policy in the same world for a seed and reports each seed and the mean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'churnctl-simulate-'));
    // The default policy under another version: the same decisions, so the same figures.
    const copy = join(dir, 'copy.json');
    writeFileSync(
      copy,
      JSON.stringify({ ...(readJsonFile(DEFAULT_POLICY_FILE) as object), version: 'copy-of-default' }),
    );
    const out = join(dir, 'report.json');
    await churnctl(
      'simulate',
      '--policy',
      DEFAULT_POLICY_FILE,
      '--policy',
      copy,
      '--customers',
      '40',
      '--months',
      '6',
      '--seed',
      '1',
      '--seed',
      '2',
      '--json',
      out,
    );
    const report = JSON.parse(readFileSync(out, 'utf8')) as SimulateReport;
    expect(report.worlds.map((w) => w.seed)).toEqual([1, 2]);
    expect(report.runs.map((r) => [r.policy, r.seed])).toEqual([
      [report.runs[0]?.policy, 1],
      ['copy-of-default', 1],
      [report.runs[0]?.policy, 2],
      ['copy-of-default', 2],
    ]);
    const [d1, c1, d2, c2] = report.runs.map((r) => ({ ...r, policy: '', policyFile: '', wallMs: 0 }));
    expect(c1).toEqual(d1);
    expect(c2).toEqual(d2);
    expect(numbers(report.runs[0] as never)).not.toEqual(numbers(report.runs[2] as never));
    const mean = (xs: (number | null)[]) => xs.reduce<number>((s, x) => s + (x ?? 0), 0) / xs.length;
    const own = report.runs.filter((r) => r.policy === 'copy-of-default');
    const m = report.means.find((x) => x.policy === 'copy-of-default');
    expect(m?.seeds).toBe(2);
    if (own.every((r) => r.early.share !== null)) expect(m?.early).toBeCloseTo(mean(own.map((r) => r.early.share)), 12);
    if (own.every((r) => r.late.share !== null)) expect(m?.late).toBeCloseTo(mean(own.map((r) => r.late.share)), 12);
  });

  it('refuses a bad command line with the usage exit code', async () => {
    await expect(churnctl('simulate', '--months', 'many')).rejects.toMatchObject({ code: 2 });
    await expect(churnctl('simulate', '--nope')).rejects.toMatchObject({ code: 2 });
    const help = await churnctl('simulate', '--help');
    expect(help.stdout).toContain('churnctl simulate');
  });
});
