/**
 * The Prometheus rules (infra/prometheus/rules): promtool accepts them and their unit
 * tests (infra/prometheus/tests) pass; every alerting rule is fired by some test and
 * every alert also has a test where it does not fire; every alert links to a runbook
 * section that exists in docs/operations.md; every metric an expression names is one the
 * services export (read from a live PipelineMetrics registry) or a recording rule, with
 * labels it has and, for `le`, a bucket boundary it has; and Prometheus, configured as
 * docker-compose.yml runs it, loads every rule file.
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { PipelineMetrics } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { findTool } from './tools.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const RULES_DIR = 'infra/prometheus/rules';
const TESTS_DIR = 'infra/prometheus/tests';
const RUNBOOKS = 'docs/operations.md';
const promtool = findTool('promtool');

const yamlFiles = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => posix.join(dir, f));

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
const rulesOf = (file: string) =>
  (parseYaml(readFileSync(join(root, file), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
const allRules = () => yamlFiles(RULES_DIR).flatMap(rulesOf);
const alerts = () => allRules().filter((r): r is Rule & { alert: string } => r.alert !== undefined);

// ---------------------------------------------------------------- exported series

/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

interface Series {
  labels: Set<string>;
  /** For a histogram's _bucket series: its bucket boundaries as Prometheus prints them. */
  buckets?: Set<string>;
}

/** `le` as the Prometheus text format prints a bucket boundary (prom-client's way). */
const leOf = (bound: number) => (bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound));

/**
 * The series the services export, from a registry built as every service builds it:
 * metric names (histograms add _bucket, _sum and _count) with their declared labels and
 * bucket boundaries, plus `up` from Prometheus.
 */
async function exportedSeries(): Promise<Map<string, Series>> {
  const { registry } = new PipelineMetrics();
  const series = new Map<string, Series>([['up', { labels: new Set(TARGET_LABELS) }]]);
  for (const metric of await registry.getMetricsAsJSON()) {
    const shape = registry.getSingleMetric(metric.name) as unknown as {
      labelNames?: readonly string[];
      upperBounds?: readonly number[];
    };
    expect(Array.isArray(shape.labelNames), `${metric.name}: prom-client keeps its label names`).toBe(true);
    const labels = new Set([...TARGET_LABELS, ...(shape.labelNames ?? [])]);
    for (const value of metric.values) for (const label of Object.keys(value.labels)) labels.add(label);
    labels.delete('le');
    if (String(metric.type) === 'histogram') {
      expect(Array.isArray(shape.upperBounds), `${metric.name}: prom-client keeps its buckets`).toBe(true);
      const buckets = new Set([...(shape.upperBounds ?? []), Number.POSITIVE_INFINITY].map(leOf));
      series.set(`${metric.name}_bucket`, { labels: new Set([...labels, 'le']), buckets });
      series.set(`${metric.name}_sum`, { labels });
      series.set(`${metric.name}_count`, { labels });
    } else {
      series.set(metric.name, { labels });
    }
  }
  return series;
}

// ---------------------------------------------------------------- PromQL selectors

/** Names in PromQL that are not series: keywords, operators, aggregations' clauses. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);
const AGGREGATIONS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
]);

interface Selector {
  metric: string;
  matchers: Array<{ label: string; op: string; value: string }>;
}

/**
 * The series selectors of a PromQL expression: each metric name with its label
 * matchers. Strings, ranges (`[5m]`), numbers and durations, grouping label lists
 * (`by (...)`, `on (...)`), functions and keywords are skipped.
 */
function selectorsOf(expr: string): Selector[] {
  const out: Selector[] = [];
  let i = 0;
  const peek = () => {
    let j = i;
    while (j < expr.length && /\s/.test(expr[j] as string)) j++;
    return expr[j];
  };
  const skipParenList = () => {
    while (i < expr.length && expr[i] !== '(') i++;
    i = expr.indexOf(')', i) + 1;
    if (i === 0) throw new Error(`unterminated label list in ${expr}`);
  };
  const readMatchers = (): Selector['matchers'] => {
    const end = expr.indexOf('}', i);
    if (end < 0) throw new Error(`unterminated matchers in ${expr}`);
    const body = expr.slice(i + 1, end);
    i = end + 1;
    return [...body.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => ({
      label: m[1] as string,
      op: m[2] as string,
      value: m[3] as string,
    }));
  };
  while (i < expr.length) {
    const c = expr[i] as string;
    if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated string in ${expr}`);
      i = end + 1;
    } else if (c === '[') {
      i = expr.indexOf(']', i) + 1;
    } else if (c === '{') {
      // A selector without a metric name: {__name__=...}.
      const matchers = readMatchers();
      const name = matchers.find((m) => m.label === '__name__' && m.op === '=');
      out.push({ metric: name?.value ?? '', matchers: matchers.filter((m) => m !== name) });
    } else if (/\d/.test(c) || (c === '.' && /\d/.test(expr[i + 1] ?? ''))) {
      const m = /^(0x[0-9a-f]+|\d*\.?\d+(e[+-]?\d+)?((ms|[smhdwy])\d*)*)/i.exec(expr.slice(i));
      i += m ? m[0].length : 1;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const word = (/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i)) as RegExpExecArray)[0];
      i += word.length;
      const lower = word.toLowerCase();
      if (['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'].includes(lower)) {
        if (peek() === '(') skipParenList();
      } else if (KEYWORDS.has(lower) || AGGREGATIONS.has(lower) || peek() === '(') {
        // a keyword, or a function or aggregation's name
      } else {
        while (i < expr.length && /\s/.test(expr[i] as string)) i++;
        out.push({ metric: word, matchers: expr[i] === '{' ? readMatchers() : [] });
      }
    } else {
      i++;
    }
  }
  return out;
}

/** What an expression names that the services do not export, one line each. */
function unknownSeries(expr: string, exported: Map<string, Series>, recorded: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const { metric, matchers } of selectorsOf(expr)) {
    if (recorded.has(metric)) continue;
    const series = exported.get(metric);
    if (series === undefined) {
      problems.push(`${metric}: not exported by the services`);
      continue;
    }
    for (const { label, op, value } of matchers) {
      if (!series.labels.has(label)) problems.push(`${metric}: has no label ${label}`);
      else if (label === 'le' && op === '=' && !series.buckets?.has(value))
        problems.push(`${metric}: has no bucket le="${value}"`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------- runbook anchors

/** GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to '-'. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings (outside code blocks), duplicates as GitHub numbers them. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (fenced || m === null) continue;
    const base = anchorOf(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

// ---------------------------------------------------------------- tests

describe('Prometheus rules: what the tests below rely on', () => {
  it('finds series selectors in PromQL, and nothing else', () => {
    expect(
      selectorsOf(
        'sum by (service, le) (rate(churn_x_bucket{le="0.5", service=~"a|b"}[5m] offset 1h)) / on (service) group_left ' +
          'sum without (topic) (churn_y_total) > bool 0.5 unless absent(up{job="j"}) # churn_in_a_comment',
      ),
    ).toEqual([
      {
        metric: 'churn_x_bucket',
        matchers: [
          { label: 'le', op: '=', value: '0.5' },
          { label: 'service', op: '=~', value: 'a|b' },
        ],
      },
      { metric: 'churn_y_total', matchers: [] },
      { metric: 'up', matchers: [{ label: 'job', op: '=', value: 'j' }] },
    ]);
  });

  it('reports an expression that names a metric, a label or a bucket the services do not have', async () => {
    const exported = await exportedSeries();
    const recorded = new Set(['service:churn_events_consumed:rate5m']);
    expect(
      unknownSeries(
        'rate(churn_evnts_consumed_total[5m]) + service:churn_events_consumed:rate5m + churn_consumer_lag{partiton="0"}' +
          ' + churn_decision_latency_seconds_bucket{le="0.3"} + churn_decision_latency_seconds_bucket{le="0.5"}',
        exported,
        recorded,
      ),
    ).toEqual([
      'churn_evnts_consumed_total: not exported by the services',
      'churn_consumer_lag: has no label partiton',
      'churn_decision_latency_seconds_bucket: has no bucket le="0.3"',
    ]);
  });

  it('reads heading anchors as GitHub makes them', () => {
    expect([
      ...anchorsOf(
        '# Operations\n## Alerts and runbooks\n### ChurnServiceDown\n```\n# not a heading\n```\n## Alerts and runbooks',
      ),
    ]).toEqual(['operations', 'alerts-and-runbooks', 'churnservicedown', 'alerts-and-runbooks-1']);
  });
});

describe('Prometheus rules', () => {
  it('name only metrics the services export (with their labels and buckets) or rules record', async () => {
    const exported = await exportedSeries();
    const rules = allRules();
    const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
    const named = new Set(rules.flatMap((r) => selectorsOf(r.expr).map((s) => s.metric)));
    // The rules do read the services' metrics (the check below is not over nothing).
    for (const metric of ['churn_consumer_lag', 'churn_decision_latency_seconds_bucket', 'churn_ready', 'up'])
      expect(named, metric).toContain(metric);
    const problems = rules.flatMap((r) =>
      unknownSeries(r.expr, exported, recorded).map((p) => `${r.record ?? r.alert}: ${p}`),
    );
    expect(problems).toEqual([]);
  });

  it('record names of the form level:metric:operations, each once', () => {
    const records = allRules().flatMap((r) => (r.record ? [r.record] : []));
    expect(records.length).toBeGreaterThan(0);
    for (const name of records) expect(name).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
    expect(new Set(records).size).toBe(records.length);
  });

  it('give every alert a severity, a summary, a description and a runbook section that exists', () => {
    const anchors = anchorsOf(readFileSync(join(root, RUNBOOKS), 'utf8'));
    const list = alerts();
    expect(list.length).toBeGreaterThan(0);
    for (const rule of list) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      const url = rule.annotations?.runbook_url ?? '';
      const [path, anchor] = url.split('#');
      expect(path, `${rule.alert}: runbook_url ${url}`).toBe(RUNBOOKS);
      expect(anchors, `${rule.alert}: ${url} names no heading of ${RUNBOOKS}`).toContain(anchor);
    }
  });

  it('are loaded by Prometheus as docker-compose.yml runs it: rule_files cover every rule file', () => {
    const config = parseYaml(readFileSync(join(root, 'infra/prometheus/prometheus.yml'), 'utf8')) as {
      rule_files?: string[];
    };
    const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[] }>;
    };
    // Container path → host path, from the Prometheus service's bind mounts.
    const mounts = (compose.services.prometheus?.volumes ?? []).map((v) => {
      const [host, container] = v.split(':') as [string, string];
      return { host: posix.normalize(host), container };
    });
    const loaded = new Set<string>();
    for (const pattern of config.rule_files ?? []) {
      const mount = mounts.find((m) => pattern.startsWith(`${m.container}/`));
      expect(mount, `${pattern}: no volume of the prometheus service holds it`).toBeDefined();
      const hostPattern = posix.join(mount?.host ?? '', pattern.slice((mount?.container ?? '').length + 1));
      const dir = posix.dirname(hostPattern);
      const glob = new RegExp(
        `^${posix
          .basename(hostPattern)
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '.')}$`,
      );
      if (existsSync(join(root, dir)))
        for (const f of readdirSync(join(root, dir))) if (glob.test(f)) loaded.add(posix.join(dir, f));
    }
    expect([...loaded].sort()).toEqual(yamlFiles(RULES_DIR));
  });

  it('fire every alerting rule in some unit test, and every alert stays quiet in one', () => {
    type Expected = { exp_labels?: Record<string, string> };
    const cases = yamlFiles(TESTS_DIR).flatMap((file) => {
      const doc = parseYaml(readFileSync(join(root, file), 'utf8')) as {
        tests?: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: Expected[] }> }>;
      };
      return (doc.tests ?? []).flatMap((t) => t.alert_rule_test ?? []);
    });
    for (const rule of alerts()) {
      const mine = cases.filter((c) => c.alertname === rule.alert);
      const fired = mine.flatMap((c) => c.exp_alerts ?? []);
      // This rule's own labels (severity, windows) single it out among rules of the same name.
      const byThisRule = fired.filter((a) =>
        Object.entries(rule.labels ?? {}).every(([k, v]) => a.exp_labels?.[k] === String(v)),
      );
      expect(byThisRule.length, `${rule.alert} ${JSON.stringify(rule.labels)}: no test fires it`).toBeGreaterThan(0);
      expect(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${rule.alert}: no test where it does not fire`,
      ).toBe(true);
    }
  });

  it.skipIf(promtool === undefined)('pass promtool check rules', async () => {
    const files = yamlFiles(RULES_DIR);
    const { stdout } = await run(promtool as string, ['check', 'rules', ...files], { cwd: root });
    const found = [...stdout.matchAll(/SUCCESS: (\d+) rules found/g)].map((m) => Number(m[1]));
    expect(found).toEqual(files.map((f) => rulesOf(f).length));
  });

  it.skipIf(promtool === undefined)('load in the Prometheus configuration (promtool check config)', async () => {
    // The configuration with rule_files pointing where docker-compose.yml mounts them from.
    const dir = mkdtempSync(join(tmpdir(), 'churn-prometheus-'));
    const config = readFileSync(join(root, 'infra/prometheus/prometheus.yml'), 'utf8').replaceAll(
      '/etc/prometheus/rules/',
      `${join(root, RULES_DIR)}/`,
    );
    writeFileSync(join(dir, 'prometheus.yml'), config);
    const { stdout } = await run(promtool as string, ['check', 'config', join(dir, 'prometheus.yml')]);
    expect(stdout).toContain('SUCCESS');
    const checked = [...stdout.matchAll(/Checking (\S+\.yml)\s+SUCCESS: \d+ rules found/g)].map((m) =>
      posix.relative(root, m[1] as string),
    );
    expect(checked.sort()).toEqual(yamlFiles(RULES_DIR));
  });

  it.skipIf(promtool === undefined)('pass their unit tests (promtool test rules)', { timeout: 240_000 }, async () => {
    const files = yamlFiles(TESTS_DIR);
    expect(files.length).toBeGreaterThan(0);
    // One promtool per file, side by side: the three-day windows take a few seconds each.
    const results = await Promise.all(
      files.map((file) =>
        run(promtool as string, ['test', 'rules', file], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).then(
          ({ stdout }) => ({ file, ok: true, out: stdout }),
          (err: { stdout?: string; stderr?: string; message: string }) => ({
            file,
            ok: false,
            out: `${err.stdout ?? ''}${err.stderr ?? err.message}`,
          }),
        ),
      ),
    );
    for (const r of results) {
      expect(r.ok, `${r.file}:\n${r.out}`).toBe(true);
      expect(r.out, r.file).toContain('SUCCESS');
    }
  });
});
