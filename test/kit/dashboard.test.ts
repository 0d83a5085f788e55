/**
 * The Grafana dashboard (infra/grafana/dashboards/churn-pipeline.json) and its
 * provisioning: every query names only metrics and labels the services export (read
 * from a live PipelineMetrics registry, test/kit/promql.ts), the panels operators rely
 * on exist, and the provisioning files point at the dashboard and the datasource its
 * panels use.
 */

import { readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DASHBOARD, renderPreview } from '../../infra/grafana/preview.ts';
import { analyze, type Catalog, exportedSeries, type QueryInfo } from './promql.ts';
import { read, root } from './repo.ts';

const DASHBOARD_FILE = 'infra/grafana/dashboards/churn-pipeline.json';

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
