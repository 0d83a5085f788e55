/**
 * The Prometheus rules (infra/prometheus/rules): promtool accepts them and their unit
 * tests (infra/prometheus/tests) pass; every alerting rule is fired by some test and
 * every alert also has a test where it does not fire; every alert links to a runbook
 * section that exists in docs/operations.md; every metric an expression names is one the
 * services export (read from a live PipelineMetrics registry) or a recording rule records,
 * with labels it has and, for `le`, a bucket boundary it has (test/kit/promql.ts); every
 * `$labels.x` an alert's annotations name is a label of its series; and Prometheus,
 * configured as docker-compose.yml runs it, loads every rule file.
 */

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { anchorsOf } from './markdown.ts';
import { analyze, type Catalog, exportedSeries, withRecordingRules } from './promql.ts';
import { read, root } from './repo.ts';
import { findTool } from './tools.ts';

const run = promisify(execFile);
const RULES_DIR = 'infra/prometheus/rules';
const TESTS_DIR = 'infra/prometheus/tests';
const RUNBOOKS = 'docs/operations.md';
const promtool = findTool('promtool');
/**
 * Every promtool the rules are checked and tested with: Debian's (Prometheus 2) and the
 * one of the Prometheus docker-compose.yml runs (Prometheus 3, whose lookback and range
 * windows exclude their left edge and whose bucket labels are floats).
 */
const promtools = [
  { name: 'Debian promtool', path: promtool },
  { name: "the compose Prometheus' promtool", path: findTool('promtool-compose') },
];

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
const rulesOf = (file: string) => (parseYaml(read(file)) as RuleFile).groups.flatMap((g) => g.rules);
const allRules = () => yamlFiles(RULES_DIR).flatMap(rulesOf);
const alerts = () => allRules().filter((r): r is Rule & { alert: string } => r.alert !== undefined);

// ---------------------------------------------------------------- series

/** The series the rules may read: the services' and those the rules record. */
async function ruleSeries(rules: readonly Rule[]): Promise<{ catalog: Catalog; problems: string[] }> {
  const { catalog } = await exportedSeries();
  return withRecordingRules(
    catalog,
    rules.filter((r): r is Rule & { record: string } => r.record !== undefined),
  );
}

/** Labels an alert's annotations may name: its expression's result's, its own, and alertname. */
function alertLabels(rule: Rule, catalog: Catalog): ReadonlySet<string> {
  return new Set(['alertname', ...(analyze(rule.expr, catalog).labels ?? []), ...Object.keys(rule.labels ?? {})]);
}

// ---------------------------------------------------------------- tests

describe('Prometheus rules', () => {
  it('name only metrics the services export (with their labels and buckets) or rules record', async () => {
    const rules = allRules();
    const { catalog, problems: recorded } = await ruleSeries(rules);
    expect(recorded).toEqual([]);
    const named = new Set(rules.flatMap((r) => [...analyze(r.expr, catalog).series]));
    // The rules do read the services' metrics (the check below is not over nothing).
    for (const metric of ['churn_consumer_lag', 'churn_decision_latency_seconds_bucket', 'churn_ready', 'up'])
      expect(named, metric).toContain(metric);
    const problems = rules.flatMap((r) => analyze(r.expr, catalog).problems.map((p) => `${r.record ?? r.alert}: ${p}`));
    expect(problems).toEqual([]);
  });

  it("name in their annotations only labels their alert's series carry", async () => {
    const rules = allRules();
    const { catalog } = await ruleSeries(rules);
    const problems: string[] = [];
    let used = 0;
    for (const rule of alerts()) {
      const labels = alertLabels(rule, catalog);
      for (const [key, text] of Object.entries(rule.annotations ?? {})) {
        for (const [, label] of text.matchAll(/\$labels\.([A-Za-z_]\w*)/g)) {
          used += 1;
          if (!labels.has(label as string))
            problems.push(`${rule.alert} ${key}: $labels.${label} is not on [${[...labels]}]`);
        }
      }
    }
    expect(used).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('record names of the form level:metric:operations, each once', () => {
    const records = allRules().flatMap((r) => (r.record ? [r.record] : []));
    expect(records.length).toBeGreaterThan(0);
    for (const name of records) expect(name).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
    expect(new Set(records).size).toBe(records.length);
  });

  it('give every alert a severity, a summary, a description and a runbook section that exists', () => {
    const anchors = anchorsOf(read(RUNBOOKS));
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
    const config = parseYaml(read('infra/prometheus/prometheus.yml')) as {
      rule_files?: string[];
    };
    const compose = parseYaml(read('docker-compose.yml')) as {
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
      const doc = parseYaml(read(file)) as {
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

  it.skipIf(promtools[1]?.path === undefined)(
    'test under the promtool of the Prometheus version docker-compose.yml runs',
    async () => {
      const image = /^\s*image:\s*prom\/prometheus:v(\d+\.\d+\.\d+)\s*$/m.exec(read('docker-compose.yml'))?.[1];
      expect(image).toBeDefined();
      const { stdout } = await run(promtools[1]?.path as string, ['--version']);
      expect(/version (\S+)/.exec(stdout)?.[1]).toBe(image);
    },
  );

  describe.each(promtools)('under $name', (tool) => {
    it.skipIf(tool.path === undefined)('pass promtool check rules', async () => {
      const files = yamlFiles(RULES_DIR);
      const { stdout } = await run(tool.path as string, ['check', 'rules', ...files], { cwd: root });
      const found = [...stdout.matchAll(/SUCCESS: (\d+) rules found/g)].map((m) => Number(m[1]));
      expect(found).toEqual(files.map((f) => rulesOf(f).length));
    });

    it.skipIf(tool.path === undefined)('load in the Prometheus configuration (promtool check config)', async () => {
      // The configuration with rule_files pointing where docker-compose.yml mounts them from.
      const dir = mkdtempSync(join(tmpdir(), 'churn-prometheus-'));
      const config = read('infra/prometheus/prometheus.yml').replaceAll(
        '/etc/prometheus/rules/',
        `${join(root, RULES_DIR)}/`,
      );
      writeFileSync(join(dir, 'prometheus.yml'), config);
      const { stdout } = await run(tool.path as string, ['check', 'config', join(dir, 'prometheus.yml')]);
      expect(stdout).toContain('SUCCESS');
      const checked = [...stdout.matchAll(/Checking (\S+\.yml)\s+SUCCESS: \d+ rules found/g)].map((m) =>
        posix.relative(root, m[1] as string),
      );
      expect(checked.sort()).toEqual(yamlFiles(RULES_DIR));
    });

    it.skipIf(tool.path === undefined)(
      'pass their unit tests (promtool test rules)',
      { timeout: 240_000 },
      async () => {
        const files = yamlFiles(TESTS_DIR);
        expect(files.length).toBeGreaterThan(0);
        // One promtool per file, side by side: the three-day windows take a few seconds each.
        const results = await Promise.all(
          files.map((file) =>
            run(tool.path as string, ['test', 'rules', file], { cwd: root, maxBuffer: 16 * 1024 * 1024 }).then(
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
      },
    );
  });
});
