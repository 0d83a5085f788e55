/**
 * PromQL as the kit's tests read it: the series the services export (from a live
 * PipelineMetrics registry), and a reader that checks one expression against them — the
 * metric names it selects, the labels its matchers, by/without, on/ignoring and
 * group_left/group_right name, the `le` values it picks from a histogram's buckets, and
 * the labels of its result. The Grafana dashboard's queries and the Prometheus rules are
 * both checked with it.
 */

import { PipelineMetrics } from '@churn/runtime';

// ---------------------------------------------------------------- exported series

/** Labels Prometheus attaches to every scraped series. */
export const TARGET_LABELS: readonly string[] = ['job', 'instance'];

/** What a query may use of one series. */
export interface Series {
  /** The label names it has. */
  readonly labels: ReadonlySet<string>;
  /** For a histogram's _bucket series: its bucket boundaries, as `le` values. */
  readonly buckets?: ReadonlySet<string>;
}

/** Series name → what a query may use of it. */
export type Catalog = Map<string, Series>;

/** `le` as the Prometheus text format prints a bucket boundary (prom-client's way). */
export const leOf = (bound: number): string => (bound === Number.POSITIVE_INFINITY ? '+Inf' : String(bound));

/**
 * The series the services export, from a registry built as every service builds it: the
 * metric names (histograms add _bucket, _sum and _count, summaries _sum and _count) with
 * their declared label names and those the default metrics report, the buckets of each
 * histogram, plus `up` from Prometheus. `families` are the metric names as registered.
 */
export async function exportedSeries(): Promise<{ catalog: Catalog; families: string[] }> {
  const { registry } = new PipelineMetrics();
  const catalog: Catalog = new Map([['up', { labels: new Set(TARGET_LABELS) }]]);
  const metrics = await registry.getMetricsAsJSON();
  for (const metric of metrics) {
    const shape = registry.getSingleMetric(metric.name) as unknown as {
      labelNames?: readonly string[];
      upperBounds?: readonly number[];
    };
    if (!Array.isArray(shape.labelNames)) throw new Error(`${metric.name}: prom-client keeps no label names`);
    const labels = new Set([...TARGET_LABELS, ...shape.labelNames]);
    for (const value of metric.values) for (const label of Object.keys(value.labels)) labels.add(label);
    labels.delete('le');
    const type = String(metric.type);
    if (type === 'histogram') {
      if (!Array.isArray(shape.upperBounds)) throw new Error(`${metric.name}: prom-client keeps no buckets`);
      const buckets = new Set([...shape.upperBounds, Number.POSITIVE_INFINITY].map(leOf));
      catalog.set(`${metric.name}_bucket`, { labels: new Set([...labels, 'le']), buckets });
      catalog.set(`${metric.name}_sum`, { labels });
      catalog.set(`${metric.name}_count`, { labels });
    } else if (type === 'summary') {
      catalog.set(metric.name, { labels: new Set([...labels, 'quantile']) });
      catalog.set(`${metric.name}_sum`, { labels });
      catalog.set(`${metric.name}_count`, { labels });
    } else {
      catalog.set(metric.name, { labels });
    }
  }
  return { catalog, families: metrics.map((m) => m.name) };
}

/** A Prometheus recording rule: the series it records and how. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * The catalog with the series the recording rules record added: each carries the labels
 * of its expression's result and the rule's own labels (rules that read other recorded
 * series are read after them). Problems: a rule that records a scalar, a name the
 * services already export, rules that read each other in a cycle.
 */
export function withRecordingRules(
  catalog: Catalog,
  rules: readonly RecordingRule[],
): { catalog: Catalog; problems: string[] } {
  const problems: string[] = [];
  const names = new Set(rules.map((r) => r.record));
  for (const name of names) if (catalog.has(name)) problems.push(`${name}: recorded, but the services export it`);
  // Which recorded series each rule reads: any labels will do to find out.
  const unknown: Catalog = new Map(catalog);
  for (const name of names) unknown.set(name, { labels: new AnyLabels() });
  const reads = new Map(rules.map((r) => [r, [...analyze(r.expr, unknown).series].filter((s) => names.has(s))]));
  const out: Catalog = new Map(catalog);
  const state = new Map<string, 'reading' | 'done'>();
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'reading') {
      problems.push(`${name}: recorded from itself, through a cycle of recording rules`);
      out.set(name, { labels: new AnyLabels() });
      return;
    }
    state.set(name, 'reading');
    let labels: ReadonlySet<string> = new Set();
    for (const rule of rules.filter((r) => r.record === name)) {
      for (const dependency of reads.get(rule) ?? []) visit(dependency);
      const result = analyze(rule.expr, out).labels;
      if (result === undefined) problems.push(`${name}: records a scalar`);
      labels = union(labels, result ?? new Set(), Object.keys(rule.labels ?? {}));
    }
    out.set(name, { labels });
    state.set(name, 'done');
  };
  for (const name of names) visit(name);
  return { catalog: out, problems };
}

// ---------------------------------------------------------------- tokens

type Token =
  | { kind: 'ident'; text: string; at: number }
  | { kind: 'number'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'var'; text: string; at: number }
  | { kind: 'punct'; text: string; at: number }
  | { kind: 'range'; text: string; at: number }
  | { kind: 'end'; text: ''; at: number };

/** Grafana's template variables: `${var}`, `${var:format}`, `$var`, `[[var]]`. */
const VARIABLE = /\$\{([A-Za-z_]\w*)(?::\w+)?\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)\]\]/g;
const OPERATORS = ['==', '!=', '>=', '<=', '=~', '!~', '+', '-', '*', '/', '%', '^', '<', '>', '=', '@'];

/**
 * PromQL (with Grafana's `$var`, `${var}` and `[[var]]`) into tokens. Strings keep
 * their quotes out; a range or subquery `[...]` is one token, so durations and
 * variables in it are never read as names; `# ...` comments are dropped.
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
      // Names, recording rules' level:metric:operations included.
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

// ---------------------------------------------------------------- the language

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
/** Aggregations whose result is a selection of their input's series, labels and all. */
const SELECTING = new Set(['topk', 'bottomk', 'limitk', 'limit_ratio']);
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
  'deg',
  'rad',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'sinh',
  'cosh',
  'tanh',
  'asinh',
  'acosh',
  'atanh',
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
  'histogram_count',
  'histogram_sum',
  'histogram_avg',
  'histogram_fraction',
  'histogram_stddev',
  'histogram_stdvar',
  'timestamp',
  'sort',
  'sort_desc',
  'sort_by_label',
  'sort_by_label_desc',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'hour',
  'minute',
  'month',
  'year',
]);
/** Functions whose result labels are worked out one by one in `call`. */
const OTHER_FUNCTIONS = new Set([
  'histogram_quantile',
  'label_replace',
  'label_join',
  'vector',
  'scalar',
  'time',
  'absent',
  'absent_over_time',
  'pi',
]);
const SET_OPERATORS = new Set(['and', 'or', 'unless']);
const KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset'];
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

/** Every label of `sets` in one set; any label, when one of them takes any. */
function union(...sets: Array<Iterable<string>>): Set<string> {
  const out = sets.some((s) => s instanceof AnyLabels) ? new AnyLabels() : new Set<string>();
  for (const s of sets) for (const l of s) out.add(l);
  return out;
}

/** A series selector: a metric name and its label matchers. */
export interface Selector {
  readonly metric: string;
  readonly matchers: ReadonlyArray<{ label: string; op: string; value: string }>;
}

/** What a query reads and what its result carries. */
export interface QueryInfo {
  /** Every series name it selects. */
  readonly series: Set<string>;
  /** Every selector, in order, its `__name__` matcher taken as the metric name. */
  readonly selectors: Selector[];
  /** Labels of its result series; undefined when not known (e.g. a scalar). */
  readonly labels: ReadonlySet<string> | undefined;
  /** histogram_quantile's φ per series it reads, e.g. churn_decision_latency_seconds_bucket → [0.5]. */
  readonly quantiles: Map<string, number[]>;
  /** Names, labels or buckets the catalog does not have, and malformed parts. */
  readonly problems: string[];
  /** Grafana variables it uses. */
  readonly variables: Set<string>;
}

/** Whether a label value holds a Grafana variable, whose value is only known on the dashboard. */
const templated = (value: string) => /\$|\[\[/.test(value);

/** The buckets a matcher on `le` names that the series lacks, or why it names none. */
function bucketProblem(op: string, value: string, buckets: ReadonlySet<string>): string | undefined {
  if (templated(value)) return undefined;
  if (op === '=') return buckets.has(value) ? undefined : `no bucket le="${value}"`;
  if (op === '=~') {
    let pattern: RegExp;
    try {
      pattern = new RegExp(`^(?:${value})$`);
    } catch {
      return `le=~"${value}" is not a regular expression`;
    }
    return [...buckets].some((b) => pattern.test(b)) ? undefined : `no bucket matches le=~"${value}"`;
  }
  return undefined;
}

/** One PromQL expression against a catalog of series: a recursive-descent reading. */
export function analyze(expr: string, catalog: Catalog): QueryInfo {
  const info: QueryInfo = {
    series: new Set(),
    selectors: [],
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
  type Labels = ReadonlySet<string> | undefined;
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
      else if (peek().text !== ')') fail("expected ',' or ')'");
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
      else if (peek().text !== '}') fail("expected ',' or '}'");
    }
    take('}');
    return out;
  };
  const selector = (name: string | undefined): Labels => {
    const ms = peek().text === '{' ? matchers() : [];
    const byName = ms.find((m) => m.label === '__name__' && m.op === '=');
    const metric = name ?? byName?.value;
    if (metric === undefined) {
      info.problems.push(`a selector without a metric name in ${expr}`);
      return undefined;
    }
    const rest = ms.filter((m) => m !== byName && m.label !== '__name__');
    info.series.add(metric);
    info.selectors.push({ metric, matchers: rest });
    const series = catalog.get(metric);
    if (series === undefined) {
      info.problems.push(`metric '${metric}' is not exported`);
      return new AnyLabels();
    }
    need(
      rest.map((m) => m.label),
      series.labels,
      metric,
    );
    for (const { label, op, value } of rest) {
      const problem = label === 'le' && series.buckets ? bucketProblem(op, value, series.buckets) : undefined;
      if (problem !== undefined) info.problems.push(`${metric}: ${problem}`);
    }
    return union(series.labels);
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
      if (SELECTING.has(name)) return input;
      if (group.by) return new Set(group.by);
      if (!group.without) return new Set();
      const kept = union(input ?? []);
      for (const l of group.without) kept.delete(l);
      if (name === 'count_values' && params[0]?.string !== undefined) kept.add(params[0].string);
      return kept;
    }
    if (!KEEP_LABELS.has(name) && !OTHER_FUNCTIONS.has(name)) {
      info.problems.push(`unknown function '${name}' at ${t.at}`);
    }
    const before = info.selectors.length;
    const params = args();
    if (name === 'histogram_quantile') {
      const phi = params[0]?.number ?? Number.NaN;
      const input = params[1]?.labels;
      need(['le'], input, 'histogram_quantile');
      for (const series of new Set(info.selectors.slice(before).map((s) => s.metric))) {
        info.quantiles.set(series, [...(info.quantiles.get(series) ?? []), phi]);
      }
      const out = union(input ?? []);
      out.delete('le');
      return out;
    }
    if (name === 'label_replace' || name === 'label_join') {
      return union(params[0]?.labels ?? [], params[1]?.string ? [params[1].string] : []);
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
      if (PRECEDENCE[t.text] !== undefined || KEYWORDS.includes(t.text)) {
        fail(`keyword '${t.text}' where a value belongs`);
      }
      return modifiers(selector(t.text));
    }
    return fail('unexpected token');
  };
  /** A binary operation's result labels, as Prometheus matches the two sides' series. */
  const binary = (
    op: string,
    left: Labels,
    right: Labels,
    matching: { on?: string[]; ignoring?: string[] },
    group: { side?: 'left' | 'right'; include: string[] },
  ): Labels => {
    if (left === undefined || right === undefined) return left ?? right;
    const both = matching.on ?? matching.ignoring ?? [];
    need(both, left, `${op} on/ignoring (left)`);
    need(both, right, `${op} on/ignoring (right)`);
    if (group.side !== undefined)
      need(group.include, group.side === 'left' ? right : left, `${op} group_${group.side}`);
    if (op === 'or') return union(left, right);
    if (SET_OPERATORS.has(op)) return left;
    if (group.side === 'left') return union(left, group.include);
    if (group.side === 'right') return union(right, group.include);
    if (matching.on) return new Set(matching.on);
    const kept = union(left);
    for (const l of matching.ignoring ?? []) kept.delete(l);
    return kept;
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
      const group: { side?: 'left' | 'right'; include: string[] } = { include: [] };
      if (peek().text === 'group_left' || peek().text === 'group_right') {
        group.side = next().text === 'group_left' ? 'left' : 'right';
        if (peek().text === '(') group.include = labelList();
      }
      const right = expression(op === '^' ? precedence : precedence + 1);
      left = binary(op, left, right, matching, group);
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
