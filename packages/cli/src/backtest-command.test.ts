import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BacktestComparison } from './backtest.ts';
import { generatePopulation } from './generate.ts';
import { colourCounts, decodePng, findChromium, inspectPage } from './testing/chromium.ts';
import { churnctl, failure, repoRoot } from './testing/command.ts';

const DEFAULT_POLICY = join(repoRoot, 'policies/default.json');
/** Where the end-to-end test leaves the report and its screenshots, to look at. */
const ARTIFACTS = process.env.CHURN_BACKTEST_ARTIFACTS ?? join(repoRoot, '.churn/backtest');

/** The Chromium to render with; under CI=true its absence fails the test, elsewhere it skips it. */
function chromiumOrSkip(skip: (note?: string) => never): string {
  const chromium = findChromium();
  if (chromium !== null) return chromium;
  const note = 'Chromium not found (install the Debian package chromium, or set CHROMIUM_BIN)';
  if (process.env.CI === 'true') throw new Error(`${note}: it is required under CI=true`);
  console.warn(`churnctl backtest: ${note}; skipped`);
  return skip(note);
}

let dir: string;
let history: string;
let policyB: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'churnctl-backtest-'));
  history = join(dir, 'history.jsonl');
  const events = generatePopulation({ customers: 60, months: 14, seed: 7 });
  writeFileSync(history, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  // Policy B: pauses believed to work half as well after a life change, a cheaper
  // account manager meeting, and a loyalty bonus for every customer leaving over price.
  const doc = JSON.parse(readFileSync(DEFAULT_POLICY, 'utf8'));
  doc.version = 'candidate-2027.01';
  doc.offers.LIFE_CHANGE.PAUSE.probability = 0.3;
  doc.offers.PRICE.LOYALTY_BONUS = { probability: 0.45 };
  doc.offerCosts.ACCOUNT_MANAGER_MEETING = { basis: 'fixed', amount: 800 };
  policyB = join(dir, 'candidate.json');
  writeFileSync(policyB, JSON.stringify(doc, null, 2));
});

describe('churnctl backtest', () => {
  it('compares two policies over a generated history: text, JSON and an HTML page that renders in Chromium', async ({
    skip,
  }) => {
    const html = join(dir, 'report.html');
    const json = join(dir, 'report.json');
    const { stdout, stderr } = await churnctl(
      'backtest',
      '--in',
      history,
      '--policy',
      DEFAULT_POLICY,
      '--policy',
      policyB,
      '--html',
      html,
      '--json',
      json,
    );
    expect(stderr).toContain('backtest: policy B: candidate-2027.01');
    expect(stderr).toMatch(/backtest: \d+ events, 0 bad lines, \d+ cancellations, \d+ decided differently/);
    const comparison = JSON.parse(readFileSync(json, 'utf8')) as BacktestComparison;
    expect(comparison.policies.map((p) => p.version)).toEqual([
      JSON.parse(readFileSync(DEFAULT_POLICY, 'utf8')).version,
      'candidate-2027.01',
    ]);
    expect(comparison.cancellations).toBeGreaterThan(5);
    expect(comparison.differences.length).toBeGreaterThan(0);
    expect(comparison.history.outcomes).toBeGreaterThan(0);
    expect(stdout).toContain(`Cancellations decided: ${comparison.cancellations}.`);
    expect(stdout).toContain(`Decisions that differ: ${comparison.differences.length}`);

    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<script|<link|@import|url\(|\b(src|href)\s*=/i);
    mkdirSync(ARTIFACTS, { recursive: true });
    copyFileSync(html, join(ARTIFACTS, 'report.html'));

    const chromium = chromiumOrSkip(skip);
    const report = await inspectPage(chromium, pathToFileURL(html).href, {
      width: 1280,
      height: 2000,
      fullPage: true,
      evaluate: `({
        title: document.title,
        charts: [...document.querySelectorAll('svg.chart')].map((svg) => {
          const box = svg.getBoundingClientRect();
          const marks = [...svg.querySelectorAll('.bar, .mark')].map((m) => m.getBoundingClientRect());
          return {
            id: svg.dataset.chart,
            width: box.width,
            height: box.height,
            marks: marks.length,
            drawn: marks.filter((b) => b.width > 0.5 && b.height > 0.5).length,
          };
        }),
        rows: document.querySelectorAll('td.id').length,
      })`,
    });
    writeFileSync(join(ARTIFACTS, 'report.png'), report.screenshot);
    if (report.fullPage) writeFileSync(join(ARTIFACTS, 'report-full.png'), report.fullPage);
    expect(report.consoleErrors).toEqual([]);
    expect(report.externalRequests).toEqual([]);
    const seen = report.evaluated as {
      title: string;
      charts: { id: string; width: number; height: number; marks: number; drawn: number }[];
      rows: number;
    };
    expect(seen.title).toContain('candidate-2027.01');
    expect(seen.rows).toBe(Math.min(comparison.differences.length, 200));
    expect(seen.charts.map((c) => c.id)).toContain('save-rates');
    expect(seen.charts.filter((c) => c.id.startsWith('value-')).length).toBeGreaterThan(0);
    for (const chart of seen.charts) {
      expect(chart.width, chart.id).toBeGreaterThan(100);
      expect(chart.height, chart.id).toBeGreaterThan(30);
      expect(chart.drawn, chart.id).toBeGreaterThan(0);
    }

    // The screenshot shows the page, and the bars of both policies are painted.
    const png = decodePng(report.screenshot);
    expect([png.width, png.height]).toEqual([1280, 2000]);
    const colours = colourCounts(png);
    expect(colours.size).toBeGreaterThan(50);
    const [background] = [...colours].sort((x, y) => y[1] - x[1])[0] ?? [];
    expect(colours.get(background as string) ?? 0).toBeLessThan(png.width * png.height * 0.9);
    expect(colours.get('#2563eb') ?? 0).toBeGreaterThan(500);
    expect(colours.get('#ea580c') ?? 0).toBeGreaterThan(500);
  }, 120_000);

  it('the page check sees console errors and requests that leave the machine', async ({ skip }) => {
    const chromium = chromiumOrSkip(skip);
    const page = join(dir, 'broken.html');
    writeFileSync(
      page,
      '<!doctype html><p>x</p><img src="http://example.invalid/x.png"><script>console.error("boom"); null.x;</script>',
    );
    const report = await inspectPage(chromium, pathToFileURL(page).href, { width: 400, height: 300 });
    expect(report.consoleErrors.join('\n')).toContain('boom');
    expect(report.consoleErrors.join('\n')).toContain('TypeError');
    expect(report.externalRequests).toEqual(['http://example.invalid/x.png']);
    const png = decodePng(report.screenshot);
    expect([png.width, png.height]).toEqual([400, 300]);
  }, 60_000);

  it('counts and reports bad lines of the history, and carries on', async () => {
    const lines = readFileSync(history, 'utf8').trim().split('\n');
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `${[...lines.slice(0, 3), '{not json', ...lines.slice(3)].join('\n')}\n`);
    const json = join(dir, 'bad.json');
    const { stdout, stderr } = await churnctl(
      'backtest',
      '--in',
      bad,
      '--policy',
      DEFAULT_POLICY,
      '--policy',
      policyB,
      '--json',
      json,
    );
    expect(stderr).toContain('backtest: line 4: CHURN_WIRE_FORMAT: not JSON');
    expect(stderr).toContain('1 bad lines');
    expect(stdout).toContain('1 bad lines');
    expect((JSON.parse(readFileSync(json, 'utf8')) as BacktestComparison).history.badLines).toBe(1);
  }, 60_000);

  it('refuses a missing history, and a missing, unreadable or invalid policy, naming the file (exit 1)', async () => {
    const missing = await failure(
      'backtest',
      '--in',
      join(dir, 'nope.jsonl'),
      '--policy',
      DEFAULT_POLICY,
      '--policy',
      policyB,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^churnctl: cannot read .*nope\.jsonl: ENOENT/),
    ]);

    const noPolicy = await failure(
      'backtest',
      '--in',
      history,
      '--policy',
      DEFAULT_POLICY,
      '--policy',
      join(dir, 'no.json'),
    );
    expect(noPolicy.code).toBe(1);
    expect(noPolicy.stderr).toMatch(/^churnctl: policy B \(.*no\.json\): cannot read/);

    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ "version": ');
    const unreadable = await failure('backtest', '--in', history, '--policy', notJson, '--policy', policyB);
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/^churnctl: policy A \(.*not\.json\): .* is not valid JSON/);

    const invalidDoc = JSON.parse(readFileSync(DEFAULT_POLICY, 'utf8'));
    invalidDoc.offers.PRICE.DOWNGRADE.probability = 2;
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify(invalidDoc));
    const wrong = await failure('backtest', '--in', history, '--policy', DEFAULT_POLICY, '--policy', invalid);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('offers.PRICE.DOWNGRADE.probability: must be between 0 and 1');
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('explains its usage without exactly two policies or without --in (usage exit code)', async () => {
    const one = await failure('backtest', '--in', history, '--policy', DEFAULT_POLICY);
    expect(one.code).toBe(2);
    expect(one.stderr).toContain('backtest compares exactly two policies: give --policy twice (A, then B), got 1');
    const three = await failure(
      'backtest',
      '--in',
      history,
      '--policy',
      DEFAULT_POLICY,
      '--policy',
      policyB,
      '--policy',
      policyB,
    );
    expect(three.code).toBe(2);
    expect(three.stderr).toContain('got 3');
    const noIn = await failure('backtest', '--policy', DEFAULT_POLICY, '--policy', policyB);
    expect(noIn.code).toBe(2);
    expect(noIn.stderr).toContain('--in is required');
    const unknown = await failure('backtest', '--in', history, '--out', 'x');
    expect(unknown.code).toBe(2);
  }, 60_000);
});
