/**
 * The Grafana dashboard (infra/grafana/dashboards/churn-pipeline.json) and its
 * provisioning: every query names only metrics and labels the services export (read
 * from a live PipelineMetrics registry), the panels operators rely on exist, and the
 * provisioning files point at the dashboard and the datasource its panels use.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { PipelineMetrics } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DASHBOARD, renderPreview } from '../../infra/grafana/preview.ts';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

const DASHBOARD_FILE = 'infra/grafana/dashboards/churn-pipeline.json';

// ---------------------------------------------------------------- exported metrics

/** Series name → label names a query may use on it. */
type Catalog = Map<string, Set<string>>;

/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

/**
 * The series the services export, from a registry built as every service builds it:
 * the metric names (histograms add _bucket, _sum, _count) with their declared label
 * names and the ones the default metrics report, plus `up` from Prometheus.
 */
async function exportedSeries(): Promise<{ catalog: Catalog; families: string[] }> {
  const { registry } = new PipelineMetrics();
  const catalog: Catalog = new Map([['up', new Set(TARGET_LABELS)]]);
  const metrics = await registry.getMetricsAsJSON();
  for (const metric of metrics) {
    const declared = (registry.getSingleMetric(metric.name) as unknown as { labelNames?: readonly string[] })
      .labelNames;
    const labels = new Set([...TARGET_LABELS, ...(declared ?? [])]);
    for (const value of metric.values) for (const label of Object.keys(value.labels)) labels.add(label);
    labels.delete('le');
    if (String(metric.type) === 'histogram') {
      catalog.set(`${metric.name}_bucket`, new Set([...labels, 'le']));
      catalog.set(`${metric.name}_sum`, labels);
      catalog.set(`${metric.name}_count`, labels);
    } else if (String(metric.type) === 'summary') {
      catalog.set(metric.name, new Set([...labels, 'quantile']));
      catalog.set(`${metric.name}_sum`, labels);
      catalog.set(`${metric.name}_count`, labels);
    } else {
      catalog.set(metric.name, labels);
    }
  }
  return { catalog, families: metrics.map((m) => m.name) };
}

// ---------------------------------------------------------------- PromQL

type Token =
  | { kind: 'ident'; text: string; at: number }
  | { kind: 'number'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'var'; text: string; at: number }
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'range'; text: string; at: number }
  | { kind: 'end'; text: ''; at: number };

const VARIABLE = /\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)\]\]/g;
const OPERATORS = ['==', '!=', '>=', '<=', '=~', '!~', '+', '-', '*', '/', '%', '^', '<', '>', '=', '@'];

/**
 * PromQL (with Grafana's `$var`, `${var}` and `[[var]]`) into tokens. Strings keep
 * their quotes out; a range or subquery `[...]` is one token, so durations and
 * variables in it are never read as names.
 */
function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i] as string;
    const rest = expr.slice(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i += 1;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < expr.length && expr[j] !== c) {
        if (expr[j] === '\\' && c !== '`') j += 1;
        text += expr[j] ?? '';
        j += 1;
      }
      if (j >= expr.length) throw new Error(`unterminated string at ${i}`);
      tokens.push({ kind: 'string', text, at: i });
      i = j + 1;
    } else if (c === '[' && expr[i + 1] !== '[') {
      const j = expr.indexOf(']', i);
      if (j < 0) throw new Error(`unterminated range at ${i}`);
      tokens.push({ kind: 'range', text: expr.slice(i + 1, j).trim(), at: i });
      i = j + 1;
    } else if (/^\$[{A-Za-z_]|^\[\[/.test(rest)) {
      const m = new RegExp(`^(?:${VARIABLE.source})`).exec(rest);
      if (m === null) throw new Error(`malformed variable at ${i}`);
      tokens.push({ kind: 'var', text: (m[1] ?? m[2] ?? m[3]) as string, at: i });
      i += m[0].length;
    } else if (/^(0x[0-9a-f]+|\d*\.?\d)/i.test(rest)) {
      // A number, or a duration (after offset): 0.99, 1e3, 0x1f, 5m, 1h30m.
      const m = /^(0x[0-9a-f]+|(\d*\.?\d+(e[+-]?\d+)?)((ms|[smhdwy])\d*)*)/i.exec(rest) as RegExpExecArray;
      tokens.push({ kind: 'number', text: m[0], at: i });
      i += m[0].length;
    } else if (/[a-zA-Z_:]/.test(c)) {
      const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(rest) as RegExpExecArray;
      const number = /^(inf|nan)$/i.test(m[0]);
      tokens.push({ kind: number ? 'number' : 'ident', text: m[0], at: i });
      i += m[0].length;
    } else if ('(){},'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, at: i });
      i += 1;
    } else {
      const op = OPERATORS.find((o) => rest.startsWith(o));
      if (op === undefined) throw new Error(`unexpected '${c}' at ${i}`);
      tokens.push({ kind: 'punct', text: op, at: i });
      i += op.length;
    }
  }
  tokens.push({ kind: 'end', text: '', at: expr.length });
  return tokens;
}

const AGGREGATIONS = new Set([
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'stddev',
  'stdvar',
  'group',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'limitk',
  'limit_ratio',
]);
/** Functions whose result keeps the labels of their (range) vector argument. */
const KEEP_LABELS = new Set([
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'resets',
  'changes',
  'abs',
  'ceil',
  'floor',
  'round',
  'clamp',
  'clamp_min',
  'clamp_max',
  'exp',
  'ln',
  'log2',
  'log10',
  'sqrt',
  'sgn',
  'predict_linear',
  'holt_winters',
  'double_exponential_smoothing',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
  'present_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'mad_over_time',
  'timestamp',
  'sort',
  'sort_desc',
  'sort_by_label',
  'sort_by_label_desc',
]);
const OTHER_FUNCTIONS = new Set([
  'histogram_quantile',
  'label_replace',
  'label_join',
  'vector',
  'scalar',
  'time',
  'absent',
  'absent_over_time',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'hour',
  'minute',
  'month',
  'year',
  'pi',
]);
const BINARY = ['or', 'and', 'unless', '==', '!=', '>=', '<=', '<', '>', '+', '-', '*', '/', '%', '^', 'atan2'];
const PRECEDENCE: Record<string, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '>=': 3,
  '<=': 3,
  '<': 3,
  '>': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '^': 6,
};

/** The labels of a series the catalog does not know: reported once, then any label passes. */
class AnyLabels extends Set<string> {
  override has(): boolean {
    return true;
  }
}

/** What a query reads and what its result carries. */
interface QueryInfo {
  /** Every series name it selects. */
  readonly series: Set<string>;
  /** Labels of its result series; undefined when not known (e.g. a scalar). */
  readonly labels: Set<string> | undefined;
  /** histogram_quantile's φ per series it reads, e.g. churn_decision_latency_seconds_bucket → [0.5]. */
  readonly quantiles: Map<string, number[]>;
  /** Names or labels the services do not export, and malformed parts. */
  readonly problems: string[];
  /** Grafana variables it uses. */
  readonly variables: Set<string>;
}

/** One PromQL expression against the exported series: a recursive-descent reading. */
function analyze(expr: string, catalog: Catalog): QueryInfo {
  const info: QueryInfo = {
    series: new Set(),
    labels: undefined,
    quantiles: new Map(),
    problems: [],
    variables: new Set(),
  };
  let tokens: Token[];
  try {
    tokens = tokenize(expr);
  } catch (err) {
    info.problems.push((err as Error).message);
    return info;
  }
  let pos = 0;
  /** Every series selected so far, in order (one entry per selector). */
  const selected: string[] = [];
  const peek = (ahead = 0) => tokens[Math.min(pos + ahead, tokens.length - 1)] as Token;
  const next = () => tokens[pos++] as Token;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${peek().at} ('${peek().text}') in ${expr}`);
  };
  const take = (text: string) => {
    if (peek().text !== text) fail(`expected '${text}'`);
    return next();
  };
  // Grafana replaces its variables anywhere, in label values and ranges too.
  for (const t of tokens) {
    if (t.kind === 'var') info.variables.add(t.text);
    if (t.kind !== 'range' && t.kind !== 'string') continue;
    for (const m of t.text.matchAll(VARIABLE)) info.variables.add((m[1] ?? m[2] ?? m[3]) as string);
  }

  /** Labels a node's result carries: undefined for scalars and strings. */
  type Labels = Set<string> | undefined;
  const need = (labels: readonly string[], on: Labels, where: string) => {
    if (on === undefined) {
      if (labels.length > 0) info.problems.push(`${where}: (${labels.join(', ')}) on a scalar`);
      return;
    }
    for (const l of labels) {
      if (!on.has(l)) info.problems.push(`${where}: label '${l}' is not on [${[...on].sort().join(', ')}]`);
    }
  };
  const labelList = (): string[] => {
    take('(');
    const out: string[] = [];
    while (peek().text !== ')') {
      const t = next();
      if (t.kind !== 'ident' && t.kind !== 'string') fail('expected a label name');
      out.push(t.text);
      if (peek().text === ',') next();
    }
    take(')');
    return out;
  };
  const matchers = (): Array<{ label: string; op: string; value: string }> => {
    take('{');
    const out: Array<{ label: string; op: string; value: string }> = [];
    while (peek().text !== '}') {
      const label = next();
      if (label.kind !== 'ident' && label.kind !== 'string') fail('expected a label matcher');
      const op = next();
      if (!['=', '!=', '=~', '!~'].includes(op.text)) fail('expected a matcher operator');
      const value = next();
      if (value.kind !== 'string') fail('expected a quoted label value');
      out.push({ label: label.text, op: op.text, value: value.text });
      if (peek().text === ',') next();
    }
    take('}');
    return out;
  };
  const selector = (name: string | undefined): Labels => {
    const ms = peek().text === '{' ? matchers() : [];
    const metric = name ?? ms.find((m) => m.label === '__name__' && m.op === '=')?.value;
    if (metric === undefined) {
      info.problems.push(`a selector without a metric name in ${expr}`);
      return undefined;
    }
    info.series.add(metric);
    selected.push(metric);
    const labels = catalog.get(metric);
    if (labels === undefined) {
      info.problems.push(`metric '${metric}' is not exported`);
      return new AnyLabels();
    }
    need(
      ms.map((m) => m.label).filter((l) => l !== '__name__'),
      labels,
      metric,
    );
    return new Set(labels);
  };
  const modifiers = (labels: Labels): Labels => {
    if (peek().kind === 'range') next();
    while (peek().text === 'offset' || peek().text === '@') {
      next();
      if (peek().text === '-') next();
      next();
      if (peek().text === '(') {
        next();
        take(')');
      }
    }
    return labels;
  };
  /** A call's arguments: each one's labels, and its value when it is a lone number or string. */
  const args = (): Array<{ labels: Labels; number?: number; string?: string }> => {
    take('(');
    const out: Array<{ labels: Labels; number?: number; string?: string }> = [];
    while (peek().text !== ')') {
      const start = pos;
      const labels = expression(0);
      const [first, second, third] = tokens.slice(start, pos);
      const sign = first?.text === '-' ? -1 : 1;
      const literal = sign === -1 ? second : first;
      const lone = (sign === -1 ? third : second) === undefined;
      out.push({
        labels,
        ...(lone && literal?.kind === 'number' ? { number: sign * Number(literal.text) } : {}),
        ...(lone && literal?.kind === 'string' ? { string: literal.text } : {}),
      });
      if (peek().text === ',') next();
      else if (peek().text !== ')') fail("expected ',' or ')'");
    }
    take(')');
    return out;
  };
  const grouping = (): { by?: string[]; without?: string[] } => {
    if (peek().text === 'by') {
      next();
      return { by: labelList() };
    }
    if (peek().text === 'without') {
      next();
      return { without: labelList() };
    }
    return {};
  };
  const call = (name: string): Labels => {
    const t = peek();
    if (AGGREGATIONS.has(name)) {
      const before = grouping();
      const params = args();
      const after = before.by || before.without ? {} : grouping();
      const group = { ...before, ...after };
      const input = params[params.length - 1]?.labels;
      need(group.by ?? group.without ?? [], input, `${name} by/without`);
      if (group.by) return new Set(group.by);
      const kept = new Set(input);
      for (const l of group.without ?? []) kept.delete(l);
      if (name === 'count_values' && params[0]?.string !== undefined) kept.add(params[0].string);
      if (name === 'topk' || name === 'bottomk' || name === 'limitk' || name === 'limit_ratio') return input;
      return group.without ? kept : new Set();
    }
    if (!KEEP_LABELS.has(name) && !OTHER_FUNCTIONS.has(name)) {
      info.problems.push(`unknown function '${name}' at ${t.at}`);
    }
    const before = selected.length;
    const params = args();
    if (name === 'histogram_quantile') {
      const phi = params[0]?.number ?? Number.NaN;
      const input = params[1]?.labels;
      need(['le'], input, 'histogram_quantile');
      for (const series of new Set(selected.slice(before))) {
        info.quantiles.set(series, [...(info.quantiles.get(series) ?? []), phi]);
      }
      const out = new Set(input);
      out.delete('le');
      return out;
    }
    if (name === 'label_replace' || name === 'label_join') {
      const out = new Set(params[0]?.labels);
      if (params[1]?.string) out.add(params[1].string);
      return out;
    }
    if (name === 'vector' || name === 'absent' || name === 'absent_over_time') return new Set();
    if (name === 'scalar' || name === 'time' || name === 'pi') return undefined;
    return params.find((p) => p.labels !== undefined)?.labels;
  };
  const primary = (): Labels => {
    const t = next();
    if (t.kind === 'number' || t.kind === 'string' || t.kind === 'var') return modifiers(undefined);
    if (t.text === '(') {
      const inner = expression(0);
      take(')');
      return modifiers(inner);
    }
    if (t.text === '-' || t.text === '+') return primary();
    if (t.text === '{') {
      pos -= 1;
      return modifiers(selector(undefined));
    }
    if (t.kind === 'ident') {
      if (peek().text === '(' || ((peek().text === 'by' || peek().text === 'without') && AGGREGATIONS.has(t.text))) {
        return modifiers(call(t.text));
      }
      if (BINARY.includes(t.text) || ['by', 'without', 'on', 'ignoring', 'bool', 'offset'].includes(t.text)) {
        fail(`keyword '${t.text}' where a value belongs`);
      }
      return modifiers(selector(t.text));
    }
    return fail('unexpected token');
  };
  const expression = (minPrecedence: number): Labels => {
    let left = primary();
    for (;;) {
      const op = peek().text;
      const precedence = PRECEDENCE[op];
      if (precedence === undefined || precedence < minPrecedence) return left;
      next();
      if (peek().text === 'bool') next();
      let matching: { on?: string[]; ignoring?: string[] } = {};
      if (peek().text === 'on' || peek().text === 'ignoring') {
        const kind = next().text;
        matching = { [kind]: labelList() };
      }
      let include: string[] = [];
      if (peek().text === 'group_left' || peek().text === 'group_right') {
        next();
        if (peek().text === '(') include = labelList();
      }
      const right = expression(op === '^' ? precedence : precedence + 1);
      const both = matching.on ?? matching.ignoring ?? [];
      if (left !== undefined && right !== undefined) {
        need(both, left, `${op} on/ignoring (left)`);
        need(both, right, `${op} on/ignoring (right)`);
      }
      if (left === undefined) left = right;
      else if (right !== undefined) {
        left = op === 'or' ? new Set([...left, ...right]) : new Set([...left, ...include]);
      }
    }
  };

  try {
    const labels = expression(0);
    if (peek().kind !== 'end') fail('unexpected trailing input');
    return { ...info, labels };
  } catch (err) {
    info.problems.push((err as Error).message);
    return info;
  }
}

// ---------------------------------------------------------------- the dashboard

interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
}
interface Variable {
  name: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  definition?: string;
  query?: string | { query?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const loadDashboard = (): Dashboard => JSON.parse(read(DASHBOARD_FILE)) as Dashboard;

/** Every panel, those nested in (collapsed) rows included; rows themselves are not. */
function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
}

/** Grafana's built-in variables a query may use. */
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__range', '__interval_ms', '__range_s']);

/** A variable's query: label_values(selector, label) is read as `selector` grouped by `label`. */
function variableExpr(variable: Variable): string | undefined {
  const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? variable.definition);
  if (query === undefined) return undefined;
  const m = /^\s*label_values\((.*),\s*(\w+)\s*\)\s*$/.exec(query);
  return m ? `group by (${m[2]}) (${m[1]})` : query;
}

/** Every problem with the dashboard's queries, as sentences naming the panel. */
function dashboardProblems(dashboard: Dashboard, catalog: Catalog): string[] {
  const problems: string[] = [];
  const variables = new Set(dashboard.templating.list.map((v) => v.name));
  const check = (where: string, expr: string, legendFormat?: string) => {
    const info = analyze(expr, catalog);
    for (const p of info.problems) problems.push(`${where}: ${p}`);
    for (const v of info.variables) {
      if (!variables.has(v) && !BUILTIN_VARIABLES.has(v)) problems.push(`${where}: variable $${v} is not defined`);
    }
    for (const m of (legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
      const label = m[1] as string;
      if (info.labels !== undefined && !info.labels.has(label)) {
        problems.push(`${where}: legend {{${label}}} is not a label of the result [${[...info.labels].join(', ')}]`);
      }
    }
  };
  for (const variable of dashboard.templating.list) {
    const expr = variable.type === 'query' ? variableExpr(variable) : undefined;
    if (expr !== undefined) check(`variable $${variable.name}`, expr);
  }
  for (const panel of panelsOf(dashboard)) {
    const where = `panel '${panel.title}'`;
    if ((panel.targets ?? []).length === 0) problems.push(`${where}: no targets`);
    for (const target of panel.targets ?? []) {
      if (typeof target.expr !== 'string' || target.expr.trim() === '') {
        problems.push(`${where} target ${target.refId}: no expr`);
      } else {
        check(`${where} target ${target.refId}`, target.expr, target.legendFormat);
      }
    }
  }
  return problems;
}

/** The panels whose queries read `series`, each with its queries' analyses. */
function panelsOver(
  dashboard: Dashboard,
  catalog: Catalog,
  series: string,
): Array<{ panel: Panel; infos: QueryInfo[] }> {
  return panelsOf(dashboard)
    .map((panel) => ({ panel, infos: (panel.targets ?? []).map((t) => analyze(t.expr ?? '', catalog)) }))
    .filter(({ infos }) => infos.some((i) => i.series.has(series)));
}

/** Whether some panel shows `series` split by every label in `by`. */
function hasPanel(dashboard: Dashboard, catalog: Catalog, series: string, by: readonly string[]): boolean {
  return panelsOver(dashboard, catalog, series).some(({ infos }) =>
    infos.some((i) => i.series.has(series) && i.labels !== undefined && by.every((l) => i.labels?.has(l))),
  );
}

describe('PromQL reading', () => {
  const catalog: Catalog = new Map([
    ['churn_x_total', new Set(['job', 'service', 'topic'])],
    ['churn_h_seconds_bucket', new Set(['job', 'stage', 'le'])],
  ]);

  it('finds series names past functions, keywords, matchers, strings, ranges and variables', () => {
    const info = analyze(
      'sum by (service) (rate(churn_x_total{job=~"$job", topic!="rate"}[$__rate_interval] offset 5m)) / on (service) group_left sum without (topic) (increase(churn_x_total[1h:5m])) or vector(0)',
      catalog,
    );
    expect(info.problems).toEqual([]);
    expect([...info.series]).toEqual(['churn_x_total']);
    expect([...(info.labels ?? [])].sort()).toEqual(['service']);
    expect([...info.variables].sort()).toEqual(['__rate_interval', 'job']);
  });

  it('names a misspelt metric, a label the metric lacks, and a quantile without le', () => {
    expect(analyze('rate(churn_y_total[5m])', catalog).problems.join()).toContain("metric 'churn_y_total'");
    expect(analyze('churn_x_total{servcie="a"}', catalog).problems.join()).toContain("label 'servcie'");
    expect(analyze('sum by (stage) (churn_x_total)', catalog).problems.join()).toContain("label 'stage'");
    expect(analyze('max(churn_x_total) by (partition)', catalog).problems.join()).toContain("label 'partition'");
    const noLe = analyze('histogram_quantile(0.9, sum by (stage) (rate(churn_h_seconds_bucket[5m])))', catalog);
    expect(noLe.problems.join()).toContain("label 'le'");
    const ok = analyze('histogram_quantile(0.9, sum by (le, stage) (rate(churn_h_seconds_bucket[5m])))', catalog);
    expect(ok.problems).toEqual([]);
    expect([...(ok.labels ?? [])]).toEqual(['stage']);
    expect(ok.quantiles.get('churn_h_seconds_bucket')).toEqual([0.9]);
    expect(analyze('sum(rate(churn_x_total[5m])', catalog).problems).not.toEqual([]);
  });
});

describe('dashboard', async () => {
  const { catalog, families } = await exportedSeries();
  const dashboard = loadDashboard();

  it('is a current Grafana dashboard with a uid, a title and panels laid out on the 24-column grid', () => {
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.title).not.toBe('');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const ids = [...dashboard.panels.filter((p) => p.type === 'row'), ...panelsOf(dashboard)].map((p) => p.id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
    const overlaps: string[] = [];
    for (const group of [dashboard.panels, ...dashboard.panels.filter((p) => p.collapsed).map((p) => p.panels ?? [])]) {
      group.forEach((a, i) => {
        const g = a.gridPos;
        expect(g, `${a.title} has a gridPos`).toBeDefined();
        if (!g) return;
        expect(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `${a.title} fits the grid`).toBe(true);
        for (const b of group.slice(i + 1)) {
          const h = b.gridPos;
          if (h && g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) {
            overlaps.push(`${a.title} / ${b.title}`);
          }
        }
      });
    }
    expect(overlaps).toEqual([]);
  });

  it('has at least one query in every panel, nested ones included, and each names only exported series and labels', () => {
    expect(panelsOf(dashboard).length).toBeGreaterThan(0);
    expect(dashboardProblems(dashboard, catalog)).toEqual([]);
  });

  it('fails a panel that queries a misspelt metric, a misspelt label, or nothing', () => {
    const broken = (edit: (target: Target, panel: Panel) => void): string[] => {
      const copy = loadDashboard();
      const panel = panelsOf(copy).find((p) => (p.targets ?? []).some((t) => t.expr?.includes('service=~')));
      const target = panel?.targets?.find((t) => t.expr?.includes('service=~')) as Target;
      edit(target, panel as Panel);
      return dashboardProblems(copy, catalog);
    };
    expect(broken((t) => (t.expr = t.expr?.replace(/churn_(\w+)/, 'churn_$1x')))).not.toEqual([]);
    expect(broken((t) => (t.expr = t.expr?.replace('service=~', 'servcie=~')))).not.toEqual([]);
    expect(broken((t) => (t.expr = `sum by (partiton) (${t.expr})`))).not.toEqual([]);
    expect(broken((_, p) => (p.targets = []))).not.toEqual([]);
  });

  it('shows every churn metric the services export', () => {
    const shown = new Set(
      panelsOf(dashboard).flatMap((p) => (p.targets ?? []).flatMap((t) => [...analyze(t.expr ?? '', catalog).series])),
    );
    const churn = families.filter((f) => f.startsWith('churn_'));
    expect(churn.length).toBeGreaterThan(0);
    const missing = churn.filter((f) => !['', '_bucket', '_sum', '_count'].some((suffix) => shown.has(f + suffix)));
    expect(missing).toEqual([]);
  });

  // The views operators rely on: the metric a panel queries and the labels its series are split by.
  const required: Array<[string, string, string[]]> = [
    ['events consumed by topic and service', 'churn_events_consumed_total', ['service', 'topic']],
    ['events produced by topic and service', 'churn_events_produced_total', ['service', 'topic']],
    ['consumer lag by topic', 'churn_consumer_lag', ['service', 'topic']],
    ['consumer lag by partition', 'churn_consumer_lag', ['topic', 'partition']],
    ['decisions by action and offer', 'churn_decisions_total', ['action', 'offer']],
    ['tasks by queue and priority', 'churn_tasks_total', ['queue', 'priority']],
    ['alerts by kind and severity', 'churn_alerts_total', ['kind', 'severity']],
    ['dead letters by topic and code', 'churn_dead_letters_total', ['topic', 'reason']],
    ['transactions by result (commits and aborts)', 'churn_transactions_total', ['result']],
    ['retries by reason', 'churn_retries_total', ['reason']],
    ['state customers by service', 'churn_state_customers', ['service']],
    ['state restores by service', 'churn_state_restore_duration_seconds_count', ['service']],
    ['experiment tries by arm', 'churn_experiment_tries', ['arm']],
    ['experiment saves by arm', 'churn_experiment_saves', ['arm']],
    ['experiment save rate by arm', 'churn_experiment_save_rate', ['arm']],
    ['readiness by service', 'churn_ready', ['service']],
    ['scrape targets up', 'up', []],
  ];
  it.each(required)('has a panel of %s', (_, series, by) => {
    expect(catalog.has(series), `${series} is exported`).toBe(true);
    expect(hasPanel(dashboard, catalog, series, by)).toBe(true);
  });

  const quantiles: Array<[string, string, string[]]> = [
    ['processing duration by stage', 'churn_processing_duration_seconds_bucket', ['stage']],
    ['decision latency', 'churn_decision_latency_seconds_bucket', []],
    ['state restore duration', 'churn_state_restore_duration_seconds_bucket', ['service']],
  ];
  it.each(quantiles)('has p50 and p99 of %s from its histogram', (_, series, by) => {
    const shown = panelsOver(dashboard, catalog, series).flatMap(({ infos }) =>
      infos.filter((i) => by.every((l) => i.labels?.has(l))).flatMap((i) => i.quantiles.get(series) ?? []),
    );
    expect(shown).toEqual(expect.arrayContaining([0.5, 0.99]));
  });
});

// ---------------------------------------------------------------- provisioning

interface Compose {
  services: Record<
    string,
    { image?: string; ports?: string[]; volumes?: string[]; environment?: Record<string, string> }
  >;
}
const compose = () => parseYaml(read('docker-compose.yml'), { merge: true }) as Compose;

/** Host path (relative to the repository) of a container path, through the service's bind mounts. */
function hostPath(service: string, containerPath: string): string | undefined {
  for (const volume of compose().services[service]?.volumes ?? []) {
    const [host, target] = volume.split(':') as [string, string];
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return posix.normalize(posix.join(host, containerPath.slice(target.length)));
    }
  }
  return undefined;
}

describe('Grafana provisioning', async () => {
  const dashboard = loadDashboard();
  const grafana = Object.entries(compose().services).find(([, s]) => s.image?.startsWith('grafana/grafana:'));
  const [grafanaService] = grafana ?? ['(no grafana service)'];
  const provisioning = '/etc/grafana/provisioning';

  /** The provisioning files Grafana reads, from the host directory mounted at /etc/grafana/provisioning. */
  const provisioned = (kind: 'datasources' | 'dashboards') => {
    const dir = hostPath(grafanaService, `${provisioning}/${kind}`);
    expect(dir, `${provisioning}/${kind} is mounted into ${grafanaService}`).toBeDefined();
    return readdirSync(join(root, dir as string))
      .filter((f) => /\.ya?ml$/.test(f))
      .map((f) => parseYaml(read(posix.join(dir as string, f))) as Record<string, unknown>);
  };

  it('compose runs Grafana with the provisioning directory mounted', () => {
    expect(grafana, 'a grafana/grafana service in docker-compose.yml').toBeDefined();
  });

  it('a dashboard provider loads the directory the dashboard is mounted from', () => {
    const providers = provisioned('dashboards').flatMap(
      (f) => (f.providers ?? []) as Array<{ type?: string; options?: { path?: string } }>,
    );
    const dirs = providers
      .filter((p) => (p.type ?? 'file') === 'file' && p.options?.path)
      .map((p) => hostPath(grafanaService, p.options?.path as string));
    expect(dirs).toContain(posix.dirname(DASHBOARD_FILE));
  });

  it('lets anonymous visitors view dashboards, and do nothing more', () => {
    const env = compose().services[grafanaService]?.environment ?? {};
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });

  it("the home dashboard Grafana is told to open is this dashboard's file", () => {
    const home = compose().services[grafanaService]?.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home && hostPath(grafanaService, home)).toBe(DASHBOARD_FILE);
  });

  it('every datasource uid the panels and variables name is provisioned, as Prometheus on the compose service', async () => {
    const datasources = provisioned('datasources').flatMap(
      (f) =>
        (f.datasources ?? []) as Array<{
          uid?: string;
          type?: string;
          url?: string;
          jsonData?: { timeInterval?: string };
        }>,
    );
    const used = new Set(
      [
        ...panelsOf(dashboard).flatMap((p) => [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]),
        ...dashboard.templating.list.map((v) => v.datasource),
      ]
        .filter((d) => d !== undefined)
        .map((d) => d?.uid),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const uid of used) {
      const source = datasources.find((d) => d.uid === uid);
      expect(source, `datasource ${uid} is provisioned`).toBeDefined();
      expect(source?.type).toBe('prometheus');
      // Its URL names a compose service and a port that service listens on.
      const url = new URL(source?.url as string);
      const target = compose().services[url.hostname];
      expect(target, `${url.hostname} is a compose service`).toBeDefined();
      expect(target?.image).toMatch(/^prom\/prometheus:/);
      const containerPorts = (target?.ports ?? []).map((p) => p.split(':').pop());
      expect(containerPorts).toContain(url.port);
      // $__rate_interval assumes Prometheus' scrape interval.
      const prometheus = parseYaml(read('infra/prometheus/prometheus.yml')) as {
        global?: { scrape_interval?: string };
      };
      expect(source?.jsonData?.timeInterval).toBe(prometheus.global?.scrape_interval ?? '1m');
    }
  });
});

describe('preview (infra/grafana/preview.ts)', () => {
  const dashboard = loadDashboard();
  const html = renderPreview(dashboard, { width: 1400, height: 1800 });
  const escapeHtml = (text: string) =>
    text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&#39;');

  it('renders the dashboard file provisioning loads', () => {
    expect(join(root, DASHBOARD_FILE)).toBe(DASHBOARD);
  });

  it("shows every row and panel's title, and every query of the panels not in a collapsed row", () => {
    for (const panel of [...dashboard.panels, ...panelsOf(dashboard)])
      expect(html).toContain(escapeHtml(panel.title ?? ''));
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) expect(html).toContain(escapeHtml(target.expr ?? ''));
    }
  });

  it('places every top-level panel inside the page, where its gridPos puts it', () => {
    const boxes = [...html.matchAll(/style="left:([\d.]+)px;top:([\d.]+)px;width:([\d.]+)px;height:([\d.]+)px"/g)].map(
      (m) => m.slice(1).map(Number) as [number, number, number, number],
    );
    expect(boxes.length).toBe(dashboard.panels.length);
    for (const [left, top, width, height] of boxes) {
      expect(left + width).toBeLessThanOrEqual(1400);
      expect(top + height).toBeLessThanOrEqual(1800);
    }
    const byX = dashboard.panels.map((p) => p.gridPos?.x ?? 0);
    const lefts = boxes.map(([left]) => left);
    for (let i = 0; i < lefts.length; i++) {
      for (let j = 0; j < lefts.length; j++) {
        if ((byX[i] as number) < (byX[j] as number)) expect(lefts[i]).toBeLessThan(lefts[j] as number);
      }
    }
  });
});
