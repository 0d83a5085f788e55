/**
 * Lays out the Grafana dashboard as a static HTML page, for a picture of it where no
 * Grafana runs: every panel at its gridPos, with its title, type and queries.
 *
 *   node --conditions=source infra/grafana/preview.ts [--out FILE] [--height PX]
 *   chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
 *     --screenshot=docs/img/dashboard.png --window-size=1400,1800 file:///tmp/dashboard-preview.html
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}
interface PreviewPanel {
  type: string;
  title?: string;
  gridPos?: GridPos;
  collapsed?: boolean;
  panels?: PreviewPanel[];
  targets?: Array<{ expr?: string; legendFormat?: string }>;
}
export interface PreviewDashboard {
  title: string;
  panels: PreviewPanel[];
  templating?: { list: Array<{ name: string; label?: string }> };
}

export const DASHBOARD = join(import.meta.dirname, 'dashboards', 'churn-pipeline.json');

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** Grid units (Grafana's 24 columns, rows of 30 px at full size) to pixels that fit `width` × `height`. */
function scale(panels: readonly PreviewPanel[], width: number, height: number) {
  const bottom = Math.max(1, ...panels.map((p) => (p.gridPos ? p.gridPos.y + p.gridPos.h : 0)));
  const header = 56;
  return { column: width / 24, unit: Math.min(30, (height - header - 8) / bottom), header };
}

/**
 * The page: a header with the dashboard's title and variables, then every top-level
 * panel and row where Grafana places it. A collapsed row shows as Grafana shows it,
 * one bar, here naming the panels it holds.
 */
export function renderPreview(dashboard: PreviewDashboard, size = { width: 1400, height: 1800 }): string {
  const { column, unit, header } = scale(dashboard.panels, size.width, size.height);
  const boxes = dashboard.panels.map((panel) => {
    const g = panel.gridPos ?? { x: 0, y: 0, w: 24, h: 1 };
    const style = `left:${g.x * column + 4}px;top:${header + g.y * unit + 4}px;width:${g.w * column - 8}px;height:${g.h * unit - 8}px`;
    if (panel.type === 'row') {
      const bar = `left:${g.x * column + 4}px;top:${header + g.y * unit}px;width:${g.w * column - 8}px;height:${g.h * unit}px`;
      const inside = (panel.panels ?? []).map((p) => escapeHtml(p.title ?? '')).join(' · ');
      const marker = panel.collapsed ? '▸' : '▾';
      return `<div class="row" style="${bar}"><b>${marker} ${escapeHtml(panel.title ?? '')}</b>${
        panel.collapsed && inside ? `<span class="inside">${inside}</span>` : ''
      }</div>`;
    }
    const queries = (panel.targets ?? [])
      .map(
        (t) => `<li>${escapeHtml(t.expr ?? '')}${t.legendFormat ? `<i> ⟶ ${escapeHtml(t.legendFormat)}</i>` : ''}</li>`,
      )
      .join('');
    return `<div class="panel ${escapeHtml(panel.type)}" style="${style}"><div class="head"><b>${escapeHtml(
      panel.title ?? '',
    )}</b><span class="type">${escapeHtml(panel.type)}</span></div><ul>${queries}</ul></div>`;
  });
  const variables = (dashboard.templating?.list ?? [])
    .map((v) => `<span class="var">${escapeHtml(v.label ?? v.name)}: All ▾</span>`)
    .join('');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(dashboard.title)}</title><style>
  body { margin: 0; background: #111217; color: #ccccdc; font: 13px/1.3 system-ui, sans-serif; }
  .top { position: absolute; left: 8px; right: 8px; top: 8px; height: ${header - 16}px; display: flex; align-items: center; gap: 12px; }
  .top h1 { font-size: 18px; margin: 0 16px 0 0; color: #fff; font-weight: 500; }
  .var { background: #22252b; border: 1px solid #34373e; border-radius: 2px; padding: 4px 8px; }
  .panel { position: absolute; box-sizing: border-box; background: #181b1f; border: 1px solid #2c3036; border-radius: 2px; padding: 6px 8px; overflow: hidden; }
  .head { display: flex; justify-content: space-between; gap: 6px; margin-bottom: 4px; }
  .head b { color: #e6e6f0; font-weight: 500; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .type { color: #6e9fff; font-size: 11px; flex: none; }
  .stat .type { color: #73bf69; } .bargauge .type, .table .type { color: #fade2a; }
  .heatmap .type, .state-timeline .type { color: #ff9830; }
  ul { margin: 0; padding: 0; list-style: none; }
  li { font: 10.5px/1.3 ui-monospace, monospace; color: #9fa7b3; margin-bottom: 3px; overflow-wrap: anywhere; }
  li i { color: #6e7580; font-style: normal; }
  .row { position: absolute; box-sizing: border-box; display: flex; align-items: center; gap: 12px; color: #fff; font-size: 13px; line-height: 1; white-space: nowrap; overflow: hidden; }
  .row b { font-weight: 500; }
  .inside { color: #8e8e9e; font-size: 12px; overflow: hidden; text-overflow: ellipsis; }
</style></head><body>
<div class="top"><h1>${escapeHtml(dashboard.title)}</h1>${variables}</div>
${boxes.join('\n')}
</body></html>
`;
}

const usage = `Usage: node --conditions=source infra/grafana/preview.ts [--out FILE] [--height PX]
Writes the dashboard (infra/grafana/dashboards/churn-pipeline.json) laid out as HTML, 1400 px wide.
  --out FILE    where to write the page (default /tmp/dashboard-preview.html)
  --height PX   the height the page fits into, as the screenshot's window (default 1800)
`;

function main(): void {
  let values: { out?: string; height?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { out: { type: 'string' }, height: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`preview: ${(err as Error).message.split('\n')[0]} (see --help)\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const height = Number(values.height ?? 1800);
  if (!Number.isInteger(height) || height < 200) {
    process.stderr.write('preview: --height must be a whole number of pixels, at least 200\n');
    process.exit(2);
  }
  const out = values.out ?? '/tmp/dashboard-preview.html';
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as PreviewDashboard;
  writeFileSync(out, renderPreview(dashboard, { width: 1400, height }));
  process.stdout.write(`${out}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
