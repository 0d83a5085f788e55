/**
 * The PromQL reading the dashboard and rules checks rely on (test/kit/promql.ts): the
 * catalog of exported series, read from a live PipelineMetrics registry, and a reader
 * that finds every selector of an expression, the labels it names and those of its
 * result, and reports what the catalog lacks.
 */

import { PipelineMetrics } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { analyze, type Catalog, exportedSeries, leOf, TARGET_LABELS, withRecordingRules } from './promql.ts';

const labels = (info: { labels: ReadonlySet<string> | undefined }) => [...(info.labels ?? [])].sort();

describe('PromQL reading', () => {
  const catalog: Catalog = new Map([
    ['churn_x_total', { labels: new Set(['job', 'service', 'topic']) }],
    ['churn_y_total', { labels: new Set(['job', 'service', 'topic']) }],
    ['churn_h_seconds_bucket', { labels: new Set(['job', 'stage', 'le']), buckets: new Set(['0.1', '0.5', '+Inf']) }],
    ['up', { labels: new Set(['job', 'instance']) }],
  ]);

  it('finds series names past functions, keywords, matchers, strings, ranges and variables', () => {
    const info = analyze(
      'sum by (service) (rate(churn_x_total{job=~"$job", topic!="rate"}[$__rate_interval] offset 5m)) / on (service) group_left sum without (topic) (increase(churn_x_total[1h:5m])) or vector(0)',
      catalog,
    );
    expect(info.problems).toEqual([]);
    expect([...info.series]).toEqual(['churn_x_total']);
    expect(labels(info)).toEqual(['service']);
    expect([...info.variables].sort()).toEqual(['__rate_interval', 'job']);
  });

  it('finds every selector with its matchers, and nothing else', () => {
    const info = analyze(
      'sum by (service, le) (rate(churn_h_seconds_bucket{le="0.5", stage=~"a|b"}[5m] offset 1h)) / on (job) group_left ' +
        'sum without (topic) (churn_y_total) > bool 0.5 unless absent({__name__="up", job="j"}) # churn_in_a_comment',
      catalog,
    );
    expect(info.selectors).toEqual([
      {
        metric: 'churn_h_seconds_bucket',
        matchers: [
          { label: 'le', op: '=', value: '0.5' },
          { label: 'stage', op: '=~', value: 'a|b' },
        ],
      },
      { metric: 'churn_y_total', matchers: [] },
      { metric: 'up', matchers: [{ label: 'job', op: '=', value: 'j' }] },
    ]);
    // by (service) on a series without it, and on (job) on a side grouped by (service, le).
    expect(info.problems).toEqual([
      "sum by/without: label 'service' is not on [job, le, stage]",
      "/ on/ignoring (left): label 'job' is not on [le, service]",
    ]);
  });

  it('reads level:metric:operations names as series, and knows them from the catalog only', () => {
    const info = analyze('service:churn_x:rate5m > 0 and job:churn_h:ratio > 0.1', catalog);
    expect([...info.series]).toEqual(['service:churn_x:rate5m', 'job:churn_h:ratio']);
    expect(info.problems).toEqual([
      "metric 'service:churn_x:rate5m' is not exported",
      "metric 'job:churn_h:ratio' is not exported",
    ]);
  });

  it('names a misspelt metric, a label the metric lacks, a bucket it lacks, and a quantile without le', () => {
    expect(analyze('rate(churn_z_total[5m])', catalog).problems.join()).toContain("metric 'churn_z_total'");
    expect(analyze('churn_x_total{servcie="a"}', catalog).problems.join()).toContain("label 'servcie'");
    expect(analyze('sum by (stage) (churn_x_total)', catalog).problems.join()).toContain("label 'stage'");
    expect(analyze('max(churn_x_total) by (partition)', catalog).problems.join()).toContain("label 'partition'");
    expect(analyze('churn_h_seconds_bucket{le="0.3"}', catalog).problems).toEqual([
      'churn_h_seconds_bucket: no bucket le="0.3"',
    ]);
    expect(analyze('churn_h_seconds_bucket{le=~"0.2|0.3"}', catalog).problems.join()).toContain('no bucket matches');
    expect(analyze('churn_h_seconds_bucket{le=~"0.1|0.3"}', catalog).problems).toEqual([]);
    expect(analyze('churn_h_seconds_bucket{le="$le"}', catalog).problems).toEqual([]);
    const noLe = analyze('histogram_quantile(0.9, sum by (stage) (rate(churn_h_seconds_bucket[5m])))', catalog);
    expect(noLe.problems.join()).toContain("label 'le'");
    const ok = analyze('histogram_quantile(0.9, sum by (le, stage) (rate(churn_h_seconds_bucket[5m])))', catalog);
    expect(ok.problems).toEqual([]);
    expect(labels(ok)).toEqual(['stage']);
    expect(ok.quantiles.get('churn_h_seconds_bucket')).toEqual([0.9]);
    expect(analyze('sum(rate(churn_x_total[5m])', catalog).problems).not.toEqual([]);
    expect(analyze('rate(churn_x_total[5m]) by', catalog).problems).not.toEqual([]);
    expect(analyze('nosuchfunction(churn_x_total)', catalog).problems.join()).toContain(
      "unknown function 'nosuchfunction'",
    );
  });

  it('gives a binary operation the labels Prometheus gives its result', () => {
    const of = (expr: string) => {
      const info = analyze(expr, catalog);
      expect(info.problems, expr).toEqual([]);
      return labels(info);
    };
    expect(of('churn_x_total / churn_y_total')).toEqual(['job', 'service', 'topic']);
    expect(of('churn_x_total / on (service) churn_y_total')).toEqual(['service']);
    expect(of('churn_x_total / ignoring (topic) churn_y_total')).toEqual(['job', 'service']);
    expect(of('churn_x_total * on (job) group_left (stage) churn_h_seconds_bucket')).toEqual([
      'job',
      'service',
      'stage',
      'topic',
    ]);
    expect(of('churn_x_total and on (job) up')).toEqual(['job', 'service', 'topic']);
    expect(of('sum by (service) (churn_x_total) or sum by (topic) (churn_y_total)')).toEqual(['service', 'topic']);
    expect(of('1 - sum by (job) (churn_x_total)')).toEqual(['job']);
    expect(of('label_replace(up, "host", "$1", "instance", "(.*):.*")')).toEqual(['host', 'instance', 'job']);
    expect(of('count_values without (topic) ("value", churn_x_total)')).toEqual(['job', 'service', 'value']);
    expect(of('topk(3, churn_x_total)')).toEqual(['job', 'service', 'topic']);
    expect(labels(analyze('scalar(sum(up))', catalog))).toEqual([]);
    expect(analyze('scalar(sum(up))', catalog).labels).toBeUndefined();
    const include = analyze('churn_x_total * on (job) group_left (nope) up', catalog);
    expect(include.problems).toEqual(["* group_left: label 'nope' is not on [instance, job]"]);
  });
});

describe('recording rules', () => {
  const catalog: Catalog = new Map([['churn_x_total', { labels: new Set(['job', 'service', 'topic']) }]]);

  it('add the series they record, with their result labels and their own, in the order they read each other', () => {
    const { catalog: all, problems } = withRecordingRules(catalog, [
      { record: 'service:churn_x:deriv15m', expr: 'deriv(service:churn_x:rate5m[15m])' },
      { record: 'service:churn_x:rate5m', expr: 'sum by (service) (rate(churn_x_total[5m]))', labels: { team: 'a' } },
    ]);
    expect(problems).toEqual([]);
    expect([...(all.get('service:churn_x:rate5m')?.labels ?? [])].sort()).toEqual(['service', 'team']);
    expect([...(all.get('service:churn_x:deriv15m')?.labels ?? [])].sort()).toEqual(['service', 'team']);
    expect(analyze('sum by (topic) (service:churn_x:deriv15m)', all).problems.join()).toContain("label 'topic'");
  });

  it('report a scalar, a cycle, and a name the services export', () => {
    const { problems } = withRecordingRules(catalog, [
      { record: 'job:churn_x:one', expr: 'scalar(sum(churn_x_total))' },
      { record: 'a:churn_x:b', expr: 'a:churn_x:c' },
      { record: 'a:churn_x:c', expr: 'a:churn_x:b' },
      { record: 'churn_x_total', expr: 'churn_x_total' },
    ]);
    expect(problems.join('\n')).toMatch(/job:churn_x:one: records a scalar/);
    expect(problems.join('\n')).toMatch(/a:churn_x:[bc]: recorded from itself/);
    expect(problems.join('\n')).toMatch(/churn_x_total: recorded, but the services export it/);
  });
});

describe('exported series', async () => {
  const { catalog, families } = await exportedSeries();
  const { registry } = new PipelineMetrics();
  const metrics = await registry.getMetricsAsJSON();

  it("holds every metric of the services' registry, histograms as _bucket, _sum and _count, and up", () => {
    expect(families.sort()).toEqual(metrics.map((m) => m.name).sort());
    const histograms = metrics.filter((m) => String(m.type) === 'histogram');
    expect(histograms.length).toBeGreaterThan(0);
    for (const { name } of histograms) {
      for (const suffix of ['_bucket', '_sum', '_count']) expect(catalog.has(name + suffix), name + suffix).toBe(true);
      expect(catalog.has(name), name).toBe(false);
      expect(catalog.get(`${name}_bucket`)?.labels.has('le')).toBe(true);
      expect(catalog.get(`${name}_count`)?.labels.has('le')).toBe(false);
    }
    expect([...(catalog.get('up')?.labels ?? [])]).toEqual([...TARGET_LABELS]);
  });

  it('gives each series its declared labels and the target labels, and each histogram its buckets', () => {
    for (const metric of metrics) {
      const shape = registry.getSingleMetric(metric.name) as unknown as {
        labelNames: string[];
        upperBounds?: number[];
      };
      const series = catalog.get(metric.name) ?? catalog.get(`${metric.name}_bucket`);
      for (const label of [...shape.labelNames, ...TARGET_LABELS]) expect(series?.labels.has(label), label).toBe(true);
      if (shape.upperBounds) {
        expect([...(series?.buckets ?? [])]).toEqual([...shape.upperBounds, Number.POSITIVE_INFINITY].map(leOf));
      }
    }
  });

  it('reports a misspelt metric, a label it lacks, and a bucket it lacks in an expression', () => {
    const lag = metrics.find((m) => m.name === 'churn_consumer_lag');
    const histogram = metrics.find((m) => m.name.startsWith('churn_') && String(m.type) === 'histogram');
    const bounds = (registry.getSingleMetric(histogram?.name ?? '') as unknown as { upperBounds: number[] })
      .upperBounds;
    const [low, high] = bounds as [number, number];
    expect(lag).toBeDefined();
    const bucket = `${histogram?.name}_bucket`;
    const expr =
      'rate(churn_evnts_consumed_total[5m]) + churn_consumer_lag{partiton="0"}' +
      ` + ${bucket}{le="${leOf((low + high) / 2)}"} + ${bucket}{le="${leOf(low)}"}`;
    expect(analyze(expr, catalog).problems).toEqual([
      "metric 'churn_evnts_consumed_total' is not exported",
      `churn_consumer_lag: label 'partiton' is not on [${[...(catalog.get('churn_consumer_lag')?.labels ?? [])].sort().join(', ')}]`,
      `${bucket}: no bucket le="${leOf((low + high) / 2)}"`,
    ]);
  });
});
