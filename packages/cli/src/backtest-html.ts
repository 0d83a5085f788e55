/**
 * The HTML report of `churnctl backtest`: one self-contained file (inline CSS, inline SVG
 * charts drawn here, no scripts, fonts or anything fetched) that a retention manager can
 * open in a browser. Every text placed in it is escaped.
 */
import type { BacktestComparison, PolicySummary, SaveRateRow } from './backtest.ts';
import {
  count,
  currenciesOf,
  DIFFERENCES_SHOWN,
  describeSide,
  money,
  observedText,
  offerLabel,
  outcomeLabel,
  overallSaveRate,
  percent,
  reasonLabel,
  saveRateKeys,
  saveRateRow,
  signedMoney,
  totalsIn,
  usedText,
} from './backtest-report.ts';

const COLOR = { A: '#2563eb', B: '#ea580c' } as const;
/** Observed rates resting on fewer outcomes than this are drawn pale. */
const FEW_OUTCOMES = 10;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const esc = escapeHtml;
/** A number for an SVG attribute. */
const n = (v: number) => (Math.round(v * 10) / 10).toString();

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, wanted = 4): number[] {
  const span = hi - lo;
  if (span <= 0) return [lo];
  const raw = span / wanted;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw) as number;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Math.abs(t) < 1e-9 ? 0 : t);
  return out;
}

/** A short money label for an axis: 1.2M, 25k, 300 (major units). */
function compact(major: number): string {
  const abs = Math.abs(major);
  const sign = major < 0 ? '-' : '';
  if (abs >= 1e6) return `${sign}${Number((abs / 1e6).toFixed(abs >= 1e7 ? 0 : 1))}M`;
  if (abs >= 1e3) return `${sign}${Number((abs / 1e3).toFixed(abs >= 1e4 ? 0 : 1))}k`;
  return `${sign}${Math.round(abs)}`;
}

interface ValueRow {
  label: string;
  a: number;
  b: number;
}

/**
 * Horizontal grouped bars, one group per row: policy A's bar above policy B's, a zero
 * line, money at each bar's end. Null when every value is zero (nothing to draw).
 */
function valueChart(
  c: BacktestComparison,
  id: string,
  title: string,
  currency: string,
  rows: readonly ValueRow[],
): string | null {
  const values = rows.flatMap((r) => [r.a, r.b]);
  if (values.every((v) => v === 0)) return null;
  const unit = c.minorUnitsPerMajor[currency] ?? 100;
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const width = 540;
  const labelW = 124;
  const padL = lo < 0 ? 78 : 4;
  const padR = hi > 0 ? 92 : 8;
  const x0 = labelW + padL;
  const x1 = width - padR;
  const x = (v: number) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
  const barH = 13;
  const rowH = barH * 2 + 16;
  const top = 26;
  const height = top + rows.length * rowH + 4;
  const parts: string[] = [];
  for (const t of ticks(lo, hi)) {
    const tx = x(t);
    parts.push(
      `<line class="grid" x1="${n(tx)}" x2="${n(tx)}" y1="${top - 4}" y2="${height - 4}"/>`,
      `<text class="tick" x="${n(tx)}" y="${top - 9}" text-anchor="middle">${esc(compact(t / unit))}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH + 6;
    parts.push(
      `<text class="label" x="${labelW - 8}" y="${n(y + barH + 1)}" text-anchor="end" dominant-baseline="middle">${esc(row.label)}</text>`,
    );
    (['A', 'B'] as const).forEach((side, j) => {
      const v = side === 'A' ? row.a : row.b;
      const by = y + j * (barH + 2);
      const from = Math.min(x(0), x(v));
      const w = Math.abs(x(v) - x(0));
      const text = `${side}: ${money(c, v, currency)}`;
      if (w >= 0.5) {
        parts.push(
          `<rect class="bar bar-${side.toLowerCase()}" x="${n(from)}" y="${n(by)}" width="${n(w)}" height="${barH}" fill="${COLOR[side]}"><title>${esc(`${row.label}, policy ${text}`)}</title></rect>`,
        );
      }
      const tx = v < 0 ? from - 4 : from + w + 4;
      parts.push(
        `<text class="value" x="${n(tx)}" y="${n(by + barH / 2 + 0.5)}" text-anchor="${v < 0 ? 'end' : 'start'}" dominant-baseline="middle">${esc(money(c, v, currency))}</text>`,
      );
    });
  });
  parts.push(`<line class="zero" x1="${n(x(0))}" x2="${n(x(0))}" y1="${top - 4}" y2="${height - 4}"/>`);
  return `<figure class="chart-box"><figcaption>${esc(title)}</figcaption><svg class="chart" data-chart="${esc(id)}" role="img" aria-label="${esc(`${title} (${currency})`)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><title>${esc(`${title} (${currency})`)}</title>${parts.join('')}</svg></figure>`;
}

/**
 * Save rates: for each reason and offer, a bar per policy for the rate observed in the
 * history, with a black mark at the rate the policy assumes.
 */
function saveRateChart(c: BacktestComparison): string | null {
  const [a, b] = c.policies;
  const keys = saveRateKeys(c).filter(({ reason, offer }) => {
    const ra = saveRateRow(a, reason, offer);
    const rb = saveRateRow(b, reason, offer);
    return (ra?.tries ?? 0) + (rb?.tries ?? 0) > 0 || ra?.prior != null || rb?.prior != null;
  });
  const anyTries = keys.some(
    ({ reason, offer }) =>
      (saveRateRow(a, reason, offer)?.tries ?? 0) + (saveRateRow(b, reason, offer)?.tries ?? 0) > 0,
  );
  if (keys.length === 0 || !anyTries) return null;
  const width = 1100;
  const labelW = 250;
  const x0 = labelW;
  const x1 = 760;
  const x = (p: number) => x0 + p * (x1 - x0);
  const barH = 13;
  const rowH = barH * 2 + 18;
  const top = 26;
  const height = top + keys.length * rowH + 4;
  const parts: string[] = [];
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line class="grid" x1="${n(x(t))}" x2="${n(x(t))}" y1="${top - 4}" y2="${height - 4}"/>`,
      `<text class="tick" x="${n(x(t))}" y="${top - 9}" text-anchor="middle">${percent(t)}</text>`,
    );
  }
  keys.forEach(({ reason, offer }, i) => {
    const y = top + i * rowH + 7;
    if (i > 0) parts.push(`<line class="sep" x1="8" x2="${width - 8}" y1="${n(y - 9)}" y2="${n(y - 9)}"/>`);
    parts.push(
      `<text class="label" x="${labelW - 10}" y="${n(y + barH / 2)}" text-anchor="end" dominant-baseline="middle">${esc(reasonLabel(reason))}</text>`,
      `<text class="label sub" x="${labelW - 10}" y="${n(y + barH * 1.5 + 3)}" text-anchor="end" dominant-baseline="middle">${esc(offerLabel(offer))}</text>`,
    );
    [a, b].forEach((p: PolicySummary, j) => {
      const r: SaveRateRow | undefined = saveRateRow(p, reason, offer);
      const by = y + j * (barH + 2);
      const side = p.label;
      if (r !== undefined && r.observed !== null) {
        const w = Math.max(x(r.observed) - x0, 0);
        const pale = r.tries < FEW_OUTCOMES ? ' few' : '';
        if (w > 0)
          parts.push(
            `<rect class="bar bar-${side.toLowerCase()}${pale}" x="${n(x0)}" y="${n(by)}" width="${n(w)}" height="${barH}" fill="${COLOR[side]}"><title>${esc(`Policy ${side}, ${reasonLabel(reason)} / ${offerLabel(offer)}: ${observedText(r)} saved`)}</title></rect>`,
          );
        else
          parts.push(
            `<rect class="bar-zero" x="${n(x0)}" y="${n(by)}" width="2" height="${barH}" fill="${COLOR[side]}"/>`,
          );
      }
      if (r?.prior != null) {
        parts.push(
          `<rect class="mark prior" x="${n(x(r.prior) - 1.5)}" y="${n(by - 2)}" width="3" height="${barH + 4}"><title>${esc(`Policy ${side} assumes ${percent(r.prior)}`)}</title></rect>`,
        );
      }
      const saw = r === undefined || r.tries === 0 ? 'no outcomes' : `${observedText(r)} saved`;
      const assumes = r?.prior != null ? `assumes ${percent(r.prior)}` : 'no assumption in the policy';
      parts.push(
        `<text class="value" x="${x1 + 14}" y="${n(by + barH / 2 + 0.5)}" dominant-baseline="middle"><tspan class="side" fill="${COLOR[side]}">${side}</tspan>  ${esc(`${saw} · ${assumes}`)}</text>`,
      );
    });
  });
  return `<svg class="chart" data-chart="save-rates" role="img" aria-label="Save rate each policy assumes against the rate seen in the history, per reason and offer" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}"><title>Save rates: assumed against seen</title>${parts.join('')}</svg>`;
}

const CSS = `
:root { --a: ${COLOR.A}; --b: ${COLOR.B}; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h2 { font-size: 20px; margin: 36px 0 6px; }
h3 { font-size: 16px; margin: 20px 0 4px; }
p { margin: 4px 0 10px; }
.muted, .note { color: var(--muted); }
.note { font-size: 13.5px; max-width: 860px; }
code { font: 13px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: #eef2f7; padding: 1px 5px; border-radius: 4px; }
.policies { display: flex; gap: 14px; margin: 14px 0 4px; flex-wrap: wrap; }
.policy { background: #fff; border: 1px solid var(--line); border-left: 6px solid; border-radius: 8px; padding: 10px 14px; min-width: 300px; }
.policy.a { border-left-color: var(--a); }
.policy.b { border-left-color: var(--b); }
.policy b { font-size: 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 14px; margin-top: 18px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .k { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .03em; }
.card .v { font-size: 24px; font-weight: 650; margin-top: 2px; }
.card .s { font-size: 13.5px; color: var(--muted); }
.ab { display: inline-block; min-width: 1.3em; font-weight: 700; }
.ab.a { color: var(--a); }
.ab.b { color: var(--b); }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; font-size: 13.5px; margin: 8px 0; }
th, td { padding: 6px 10px; text-align: left; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td.cur { font-weight: 600; background: #fff !important; }
.pos { color: #15803d; }
.neg { color: #b91c1c; }
.legend { display: flex; gap: 18px; flex-wrap: wrap; font-size: 13.5px; margin: 6px 0; }
.legend span { display: inline-flex; align-items: center; gap: 6px; }
.sw { display: inline-block; width: 14px; height: 12px; border-radius: 2px; }
.sw.tick { width: 3px; height: 16px; background: #111827; border-radius: 0; }
.sw.few { opacity: .4; }
.charts { display: flex; gap: 16px; flex-wrap: wrap; }
.charts > .chart-box { flex: 1 1 460px; min-width: 0; }
.chart-box { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 8px 4px; }
.chart-box figcaption { font-weight: 600; font-size: 14px; padding: 0 8px 2px; }
.wide { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 8px; overflow-x: auto; }
svg.chart { display: block; max-width: 100%; height: auto; }
.chart-box svg.chart { width: 100%; }
td.id { white-space: nowrap; }
svg .grid { stroke: #eef0f3; stroke-width: 1; }
svg .zero { stroke: #9ca3af; stroke-width: 1; }
svg .sep { stroke: #f1f3f6; stroke-width: 1; }
svg .tick { font-size: 11px; fill: #6b7280; }
svg .label { font-size: 12.5px; fill: #1f2937; }
svg .label.sub { fill: #6b7280; }
svg .value { font-size: 12px; fill: #374151; }
svg .side { font-weight: 700; }
svg .few { opacity: .4; }
svg .prior { fill: #111827; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 40px; color: var(--muted); font-size: 12.5px; }
`;

function deltaCell(c: BacktestComparison, minor: number, currency: string): string {
  const cls = minor > 0 ? 'pos' : minor < 0 ? 'neg' : '';
  return `<td class="n ${cls}">${esc(signedMoney(c, minor, currency))}</td>`;
}

function headline(c: BacktestComparison): string {
  const [a, b] = c.policies;
  const rateA = overallSaveRate(a);
  const rateB = overallSaveRate(b);
  const share = c.cancellations > 0 ? percent(c.differences.length / c.cancellations) : '-';
  const cards = [
    `<div class="card"><div class="k">Decided differently</div><div class="v">${esc(count(c.differences.length))} <span class="s">of ${esc(count(c.cancellations))} cancellations</span></div><div class="s">${esc(share)} of the cancellations get another action, offer or expected value under B</div></div>`,
    `<div class="card"><div class="k">Customers we try to win back</div><div class="v"><span class="ab a">A</span> ${esc(count(a.winBack))} &nbsp; <span class="ab b">B</span> ${esc(count(b.winBack))}</div><div class="s">let go gracefully: A ${esc(count(a.letGo))}, B ${esc(count(b.letGo))}</div></div>`,
    `<div class="card"><div class="k">Saved, where the history knows the result</div><div class="v"><span class="ab a">A</span> ${esc(percent(rateA.rate))} &nbsp; <span class="ab b">B</span> ${esc(percent(rateB.rate))}</div><div class="s">A ${esc(`${rateA.saves} of ${rateA.tries}`)}, B ${esc(`${rateB.saves} of ${rateB.tries}`)} retention calls with a result</div></div>`,
  ];
  const rows = currenciesOf(c)
    .map((currency) => {
      const ta = totalsIn(a.totals, currency);
      const tb = totalsIn(b.totals, currency);
      const row = (
        label: string,
        field: 'expectedValue' | 'winBackLifetimeValue' | 'letGoLifetimeValue',
        first = false,
      ) =>
        `<tr>${first ? `<td rowspan="3" class="cur">${esc(currency)}</td>` : ''}<td>${esc(label)}</td><td class="n">${esc(money(c, ta[field], currency))}</td><td class="n">${esc(money(c, tb[field], currency))}</td>${deltaCell(c, tb[field] - ta[field], currency)}</tr>`;
      return [
        row('Expected value of the offers made', 'expectedValue', true),
        row('Lifetime value of customers we try to win back', 'winBackLifetimeValue'),
        row('Lifetime value of customers we let go', 'letGoLifetimeValue'),
      ].join('');
    })
    .join('');
  return `<section><div class="cards">${cards.join('')}</div>
<h2>Value at stake</h2>
<p class="note">Summed over every cancellation each policy decided, per currency (currencies are never added together).</p>
<table><thead><tr><th>Currency</th><th></th><th class="n">Policy A</th><th class="n">Policy B</th><th class="n">B - A</th></tr></thead><tbody>${rows || '<tr><td colspan="5" class="empty">No decisions.</td></tr>'}</tbody></table></section>`;
}

function valueSection(c: BacktestComparison): string {
  const [a, b] = c.policies;
  const parts: string[] = [];
  for (const currency of currenciesOf(c)) {
    const reasons = [...new Set([...a.byReason, ...b.byReason].map((r) => r.reason))].filter((reason) =>
      [a, b].some((p) => p.byReason.find((r) => r.reason === reason)?.totals.some((t) => t.currency === currency)),
    );
    const rowsOf = (field: 'expectedValue' | 'winBackLifetimeValue'): ValueRow[] =>
      reasons.map((reason) => ({
        label: reasonLabel(reason),
        a: totalsIn(a.byReason.find((r) => r.reason === reason)?.totals ?? [], currency)[field],
        b: totalsIn(b.byReason.find((r) => r.reason === reason)?.totals ?? [], currency)[field],
      }));
    const charts = [
      valueChart(
        c,
        `value-${currency}-expected`,
        'Expected value of the offers made',
        currency,
        rowsOf('expectedValue'),
      ),
      valueChart(
        c,
        `value-${currency}-win-back`,
        'Lifetime value of customers we try to win back',
        currency,
        rowsOf('winBackLifetimeValue'),
      ),
    ].filter((chart): chart is string => chart !== null);
    parts.push(
      `<h3>${esc(currency)}</h3>`,
      charts.length > 0
        ? `<div class="charts">${charts.join('')}</div>`
        : `<p class="empty">Nothing at stake in ${esc(currency)}: no offer made and no customer to win back under either policy.</p>`,
    );
  }
  return `<section><h2>Value at stake by cancellation reason</h2>
<div class="legend"><span><i class="sw" style="background:var(--a)"></i>Policy A</span><span><i class="sw" style="background:var(--b)"></i>Policy B</span></div>
<p class="note">Left: what the offers each policy makes are expected to bring back (chance of keeping the customer times what the customer is still worth, less the offer's and the contact's cost). Right: what the customers each policy tries to win back are still worth.</p>
${parts.join('\n') || '<p class="empty">No decisions.</p>'}</section>`;
}

function saveRateSection(c: BacktestComparison): string {
  const [a, b] = c.policies;
  const chart = saveRateChart(c);
  const rows = saveRateKeys(c)
    .map(({ reason, offer }) => {
      const cells = [a, b]
        .map((p) => {
          const r = saveRateRow(p, reason, offer);
          return `<td class="n">${esc(percent(r?.prior ?? null))}</td><td class="n">${esc(observedText(r))}</td><td class="n">${esc(String(r?.noContact ?? 0))}</td><td>${esc(usedText(r))}</td>`;
        })
        .join('');
      return `<tr><td>${esc(reasonLabel(reason))}</td><td>${esc(offerLabel(offer))}</td>${cells}</tr>`;
    })
    .join('');
  return `<section><h2>Save rates: what each policy assumes against what happened</h2>
<div class="legend"><span><i class="sw" style="background:var(--a)"></i>Policy A: share saved in the history</span><span><i class="sw" style="background:var(--b)"></i>Policy B: share saved in the history</span><span><i class="sw tick"></i>the chance the policy assumes</span><span><i class="sw few" style="background:#6b7280"></i>pale: fewer than ${FEW_OUTCOMES} results, too few to go by</span></div>
<p class="note">For each reason and offer: of the retention calls that reached a result, the share where the customer stayed, paused or took a cheaper plan. Customers not reached are not counted. A bar well short of its black mark means the policy expects more from that offer than the history shows.</p>
${chart === null ? '<p class="empty">No outcome in the history belongs to a retention call of either policy.</p>' : `<div class="wide">${chart}</div>`}
<h3>In detail</h3>
<table><thead><tr><th rowspan="2">Reason</th><th rowspan="2">Offer</th><th colspan="4">Policy A</th><th colspan="4">Policy B</th></tr>
<tr><th class="n">assumes</th><th class="n">saved</th><th class="n">not reached</th><th>chance used in decisions</th><th class="n">assumes</th><th class="n">saved</th><th class="n">not reached</th><th>chance used in decisions</th></tr></thead>
<tbody>${rows || '<tr><td colspan="10" class="empty">No offers.</td></tr>'}</tbody></table></section>`;
}

function differencesSection(c: BacktestComparison): string {
  const shown = c.differences.slice(0, DIFFERENCES_SHOWN);
  const rows = shown
    .map((d) => {
      return `<tr><td class="id">${esc(d.customerId)}</td><td>${esc(reasonLabel(d.reason))}</td><td>${esc(describeSide(c, d.a, d.currency))}</td><td>${esc(describeSide(c, d.b, d.currency))}</td>${deltaCell(c, d.expectedValueDelta, d.currency)}<td class="n">${esc(money(c, d.remainingLifetimeValue, d.currency))}</td><td>${esc(outcomeLabel(d.outcome))}</td></tr>`;
    })
    .join('');
  const capped =
    c.differences.length > shown.length
      ? `<p class="note">Showing the ${esc(count(shown.length))} largest of ${esc(count(c.differences.length))} differences. The JSON output (<code>--json</code>) lists them all.</p>`
      : '';
  return `<section><h2>Decisions that differ</h2>
<p class="note">Cancellations the two policies decide differently, largest difference in expected value first. "Outcome in the history" is what the retention call recorded in the history led to.</p>
${
  shown.length === 0
    ? '<p class="empty">None: both policies decide every cancellation alike.</p>'
    : `<table><thead><tr><th>Customer</th><th>Reason</th><th>Policy A decides</th><th>Policy B decides</th><th class="n">Expected value, B - A</th><th class="n">Customer still worth</th><th>Outcome in the history</th></tr></thead><tbody>${rows}</tbody></table>`
}
${capped}</section>`;
}

function notes(c: BacktestComparison): string {
  const [a, b] = c.policies;
  const items = [
    'Expected value of an offer = the chance it keeps the customer × (what the customer is still worth − what the offer costs) − the cost of contacting the customer. A policy makes the offer with the highest expected value when it is positive, and lets the customer go gracefully otherwise.',
    '"Still worth" is the remaining lifetime value each decision estimated for the customer.',
    `The history records what came of the calls actually made. A policy that would have made another offer, or no call, cannot be checked against it for that customer: ${count(c.outcomesCreditedDifferently)} outcomes here belong to cancellations the policies treat differently, and each policy counts them for the offer it would have made.`,
    `Outcomes matched to each policy's retention calls: A ${count(a.outcomes.matched)}, B ${count(b.outcomes.matched)} of ${count(c.history.outcomes)}. Outcomes of calls a policy would not make are left out of its rates (A ${count(a.outcomes.notMatched)}, B ${count(b.outcomes.notMatched)}).`,
  ];
  return `<section><h2>How to read this report</h2><ul class="note">${items.map((t) => `<li>${esc(t)}</li>`).join('')}</ul></section>`;
}

/** The whole report as one HTML document. */
export function renderBacktestHtml(c: BacktestComparison): string {
  const [a, b] = c.policies;
  const h = c.history;
  const policyBox = (p: PolicySummary) =>
    `<div class="policy ${p.label.toLowerCase()}"><b>Policy ${p.label}</b> &nbsp;version <code>${esc(p.version)}</code><div class="muted">${esc(p.source)}</div></div>`;
  const sameVersion =
    a.version === b.version
      ? `<p class="note">Both policy files carry the version ${esc(a.version)}; they are told apart here as A and B only.</p>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(`Backtest: ${a.version} (A) against ${b.version} (B)`)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>Backtest: two decision policies on the same cancellations</h1>
<p class="muted">History <code>${esc(h.file)}</code>: ${esc(count(h.events))} events, ${esc(count(c.cancellations))} cancellations decided, ${esc(count(h.outcomes))} contact-center outcomes, ${esc(count(h.badLines))} lines that could not be read.</p>
<div class="policies">${policyBox(a)}${policyBox(b)}</div>
${sameVersion}
</header>
${headline(c)}
${valueSection(c)}
${saveRateSection(c)}
${differencesSection(c)}
${notes(c)}
<footer>churnctl backtest</footer>
</main>
</body>
</html>
`;
}
