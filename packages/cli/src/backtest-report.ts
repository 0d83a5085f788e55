/**
 * The text report of `churnctl backtest`, and the words and number formats it shares with
 * the HTML report: plain-language labels for reasons, offers, actions and outcomes, money
 * in major units with its currency (as the decisions' reasons write it), percentages.
 * The experiment report takes its counts, percentages and text tables from here too.
 */
import { formatMoney } from '@churn/domain';
import {
  type BacktestComparison,
  compareOffers,
  compareReasons,
  type DecisionDifference,
  type DecisionSide,
  type MoneyTotals,
  type PolicySummary,
  type ReasonKey,
  type SaveRateRow,
} from './backtest.ts';

/** Rows of the table of differing decisions shown in a report; the JSON holds them all. */
export const DIFFERENCES_SHOWN = 200;

const REASON_LABELS: Readonly<Record<string, string>> = {
  LIFE_CHANGE: 'Life change',
  PRICE: 'Price',
  SERVICE_ISSUE: 'Service issue',
  PRODUCT_GAP: 'Product gap',
  COMPETITOR: 'Competitor',
  PAYMENT_PROBLEM: 'Payment problem',
  NO_LONGER_NEEDED: 'No longer needed',
  UNKNOWN: 'No reason given',
  NOT_RECORDED: 'Not recorded',
};

const OFFER_LABELS: Readonly<Record<string, string>> = {
  PAUSE: 'Pause',
  DOWNGRADE: 'Cheaper plan',
  LOYALTY_BONUS: 'Loyalty bonus',
  PAYMENT_PLAN: 'Payment plan',
  SERVICE_RECOVERY: 'Service recovery',
  ACCOUNT_MANAGER_MEETING: 'Account manager meeting',
  EXECUTIVE_ESCALATION: 'Executive sponsor',
  NONE: 'No offer',
};

const ACTION_LABELS: Readonly<Record<string, string>> = {
  WIN_BACK: 'Win back',
  GRACEFUL_OFFBOARDING: 'Let go',
};

const OUTCOME_LABELS: Readonly<Record<string, string>> = {
  RETAINED: 'Stayed',
  PAUSED: 'Paused',
  DOWNGRADED: 'Downgraded',
  LOST: 'Left',
  COMPLETED: 'Completed',
  NO_CONTACT: 'Not reached',
};

/** A symbol the labels do not know yet reads as words. */
const words = (symbol: string) => symbol.charAt(0) + symbol.slice(1).toLowerCase().replace(/_/g, ' ');

export const reasonLabel = (reason: ReasonKey | string) => REASON_LABELS[reason] ?? words(reason);
export const offerLabel = (offer: string) => OFFER_LABELS[offer] ?? words(offer);
export const actionLabel = (action: string) => ACTION_LABELS[action] ?? words(action);
export const outcomeLabel = (outcome: string | null) =>
  outcome === null ? '' : (OUTCOME_LABELS[outcome] ?? words(outcome));

/** Minor units as major units with the currency: `14 506 DKK`. */
export function money(c: Pick<BacktestComparison, 'minorUnitsPerMajor'>, minor: number, currency: string): string {
  return formatMoney(minor, currency, c.minorUnitsPerMajor[currency] ?? 100);
}

/** A difference with its sign: `+1 234 DKK`, `-56 DKK`, `0 DKK`. */
export function signedMoney(
  c: Pick<BacktestComparison, 'minorUnitsPerMajor'>,
  minor: number,
  currency: string,
): string {
  const text = money(c, minor, currency);
  return text.startsWith('-') || text.startsWith('0 ') ? text : `+${text}`;
}

export function percent(p: number | null): string {
  if (p === null) return '-';
  const pct = p * 100;
  return `${Number.isInteger(Math.round(pct * 10) / 10) ? Math.round(pct) : (Math.round(pct * 10) / 10).toFixed(1)}%`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US').replace(/,/g, ' ');
}

/** Money totals of a currency, zero when the policy decided nothing in it. */
export function totalsIn(totals: readonly MoneyTotals[], currency: string): MoneyTotals {
  return (
    totals.find((t) => t.currency === currency) ?? {
      currency,
      decisions: 0,
      expectedValue: 0,
      winBackLifetimeValue: 0,
      letGoLifetimeValue: 0,
    }
  );
}

/** Every currency either policy decided in, alphabetically. */
export function currenciesOf(c: BacktestComparison): string[] {
  return [...new Set(c.policies.flatMap((p) => p.totals.map((t) => t.currency)))].sort();
}

/** Saves and tries across every reason and offer of a policy. */
export function overallSaveRate(p: PolicySummary): { saves: number; tries: number; rate: number | null } {
  const saves = p.saveRates.reduce((s, r) => s + r.saves, 0);
  const tries = p.saveRates.reduce((s, r) => s + r.tries, 0);
  return { saves, tries, rate: tries > 0 ? saves / tries : null };
}

/** `Win back: Cheaper plan (50%), 1 234 DKK` / `Let go` / `not decided`. */
export function describeSide(
  c: Pick<BacktestComparison, 'minorUnitsPerMajor'>,
  side: DecisionSide | null,
  currency: string,
): string {
  if (side === null) return 'not decided';
  if (side.action !== 'WIN_BACK') return `${actionLabel(side.action)}`;
  const offer =
    side.offer === 'EXECUTIVE_ESCALATION' && side.callOffer !== null && side.callOffer !== 'NONE'
      ? `${offerLabel(side.offer)} + ${offerLabel(side.callOffer)}`
      : offerLabel(side.offer);
  const chance = side.probability === null ? '' : ` (${percent(side.probability)})`;
  return `${actionLabel(side.action)}: ${offer}${chance}, ${money(c, side.expectedValue, currency)}`;
}

/** The pairs of reason and offer either policy has a row for, by reason and then offer. */
export function saveRateKeys(c: BacktestComparison): { reason: ReasonKey; offer: SaveRateRow['offer'] }[] {
  const seen = new Map<string, { reason: ReasonKey; offer: SaveRateRow['offer'] }>();
  for (const p of c.policies)
    for (const r of p.saveRates) seen.set(`${r.reason}/${r.offer}`, { reason: r.reason, offer: r.offer });
  return [...seen.values()].sort((x, y) => compareReasons(x.reason, y.reason) || compareOffers(x.offer, y.offer));
}

export function saveRateRow(p: PolicySummary, reason: ReasonKey, offer: string): SaveRateRow | undefined {
  return p.saveRates.find((r) => r.reason === reason && r.offer === offer);
}

/** `3 of 7 (43%)`, or `none` without tries. */
export function observedText(r: SaveRateRow | undefined): string {
  if (r === undefined || r.tries === 0) return 'none';
  return `${r.saves} of ${r.tries} (${percent(r.observed)})`;
}

/** The probability the decisions used: `50%` or `45%-52% (mean 48%)`, with what newer decisions add. */
export function usedText(r: SaveRateRow | undefined): string {
  const used = r?.used;
  if (!used) return '-';
  const range =
    Math.abs(used.max - used.min) < 1e-9
      ? percent(used.mean)
      : `${percent(used.min)}-${percent(used.max)} (mean ${percent(used.mean)})`;
  const extra: string[] = [];
  if (used.meanPrior !== null && Math.abs(used.meanPrior - used.mean) > 1e-9)
    extra.push(`prior ${percent(used.meanPrior)}`);
  if (used.lastObserved !== null) extra.push(`learned from ${used.lastObserved.saves} of ${used.lastObserved.tries}`);
  return `${range} in ${used.decisions}${extra.length ? `; ${extra.join(', ')}` : ''}`;
}

/** How a column of a text table lines up: left or right. */
export type Align = 'l' | 'r';

/**
 * A text table: the header, a rule of dashes, then the rows, each column as wide as its
 * widest cell and aligned as `align` says (left when it says nothing), every line
 * indented by `indent`. The text reports of backtest and experiment both use it.
 */
export function table(header: string[], rows: string[][], align: Align[], indent = '  '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${indent}${cells
      .map((cell, i) => ((align[i] ?? 'l') === 'r' ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()}`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function outcomesLine(p: PolicySummary): string {
  const o = p.outcomes;
  return `${o.matched} of ${o.total} outcomes belong to its calls: ${o.saves} saved, ${o.losses} lost, ${o.noContact} not reached, ${o.other} other`;
}

/** The readable text report (stdout of `churnctl backtest`). */
export function renderBacktestText(c: BacktestComparison): string {
  const [a, b] = c.policies;
  const out: string[] = [];
  const h = c.history;
  out.push(
    `Backtest over ${h.file}: ${count(h.events)} events, ${count(h.badLines)} bad lines, ${count(h.outcomes)} outcomes`,
    `  Policy A: ${a.version} (${a.source})`,
    `  Policy B: ${b.version} (${b.source})`,
    '',
  );
  const share = c.cancellations > 0 ? ` (${percent(c.differences.length / c.cancellations)})` : '';
  out.push(
    `Cancellations decided: ${count(c.cancellations)}. Decided differently: ${count(c.differences.length)}${share}.`,
  );
  out.push('');
  const rateA = overallSaveRate(a);
  const rateB = overallSaveRate(b);
  out.push(
    table(
      ['', 'Policy A', 'Policy B'],
      [
        ['Win back attempted', count(a.winBack), count(b.winBack)],
        ['Let go gracefully', count(a.letGo), count(b.letGo)],
        [
          'Saved, of the calls with a known result',
          rateA.tries ? `${rateA.saves} of ${rateA.tries} (${percent(rateA.rate)})` : 'none',
          rateB.tries ? `${rateB.saves} of ${rateB.tries} (${percent(rateB.rate)})` : 'none',
        ],
      ],
      ['l', 'r', 'r'],
    ),
  );
  out.push(`  Policy A: ${outcomesLine(a)}.`, `  Policy B: ${outcomesLine(b)}.`);
  if (c.outcomesCreditedDifferently > 0)
    out.push(
      `  ${c.outcomesCreditedDifferently} outcomes belong to cancellations the policies treat differently; each policy counts them for its own offer.`,
    );
  out.push('');

  out.push('Value at stake (money in major units)');
  const rows: string[][] = [];
  for (const currency of currenciesOf(c)) {
    const ta = totalsIn(a.totals, currency);
    const tb = totalsIn(b.totals, currency);
    const line = (label: string, field: 'expectedValue' | 'winBackLifetimeValue' | 'letGoLifetimeValue') => [
      currency,
      label,
      money(c, ta[field], currency),
      money(c, tb[field], currency),
      signedMoney(c, tb[field] - ta[field], currency),
    ];
    rows.push(
      line('expected value of the offers made', 'expectedValue'),
      line('lifetime value we try to win back', 'winBackLifetimeValue'),
      line('lifetime value we let go', 'letGoLifetimeValue'),
    );
  }
  out.push(table(['', '', 'Policy A', 'Policy B', 'B - A'], rows, ['l', 'l', 'r', 'r', 'r']), '');

  out.push('Value at stake by cancellation reason');
  const reasonRows: string[][] = [];
  const reasons = [...new Set([...a.byReason, ...b.byReason].map((r) => r.reason))];
  for (const reason of reasons) {
    const ra = a.byReason.find((r) => r.reason === reason);
    const rb = b.byReason.find((r) => r.reason === reason);
    const currencies = [...new Set([...(ra?.totals ?? []), ...(rb?.totals ?? [])].map((t) => t.currency))].sort();
    currencies.forEach((currency, i) => {
      const ta = totalsIn(ra?.totals ?? [], currency);
      const tb = totalsIn(rb?.totals ?? [], currency);
      reasonRows.push([
        i === 0 ? reasonLabel(reason) : '',
        i === 0 ? `${ra?.winBack ?? 0} / ${rb?.winBack ?? 0} of ${ra?.decisions ?? rb?.decisions ?? 0}` : '',
        currency,
        money(c, ta.expectedValue, currency),
        money(c, tb.expectedValue, currency),
        money(c, ta.winBackLifetimeValue, currency),
        money(c, tb.winBackLifetimeValue, currency),
        money(c, ta.letGoLifetimeValue, currency),
        money(c, tb.letGoLifetimeValue, currency),
      ]);
    });
  }
  out.push(
    table(
      ['Reason', 'Win back A / B', '', 'Expected A', 'Expected B', 'Win back A', 'Win back B', 'Let go A', 'Let go B'],
      reasonRows,
      ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '  (Expected: expected value of the offers made. Win back / Let go: remaining lifetime value of those customers.)',
    '',
  );

  out.push('Save rates by reason and offer: what each policy assumes against what the history shows');
  const rateRows = saveRateKeys(c).map(({ reason, offer }) => {
    const ra = saveRateRow(a, reason, offer);
    const rb = saveRateRow(b, reason, offer);
    return [
      reasonLabel(reason),
      offerLabel(offer),
      percent(ra?.prior ?? null),
      observedText(ra),
      String(ra?.noContact ?? 0),
      percent(rb?.prior ?? null),
      observedText(rb),
      String(rb?.noContact ?? 0),
    ];
  });
  out.push(
    table(
      ['Reason', 'Offer', 'A assumes', 'A saved', 'A not reached', 'B assumes', 'B saved', 'B not reached'],
      rateRows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  const usedRows = saveRateKeys(c)
    .map(({ reason, offer }) => [
      reasonLabel(reason),
      offerLabel(offer),
      usedText(saveRateRow(a, reason, offer)),
      usedText(saveRateRow(b, reason, offer)),
    ])
    .filter((r) => r[2] !== '-' || r[3] !== '-');
  if (usedRows.length > 0) {
    out.push('', 'Probability the decisions used (in N decisions that weighed the offer)');
    out.push(table(['Reason', 'Offer', 'Policy A', 'Policy B'], usedRows, ['l', 'l', 'l', 'l']));
  }
  out.push('');

  out.push(
    c.differences.length === 0
      ? 'Decisions that differ: none; both policies decide every cancellation alike.'
      : `Decisions that differ: ${count(c.differences.length)}, largest difference in expected value first${c.differences.length > DIFFERENCES_SHOWN ? ` (the first ${DIFFERENCES_SHOWN}; --json has them all)` : ''}`,
  );
  if (c.differences.length > 0) {
    out.push(
      table(
        ['Customer', 'Reason', 'Policy A', 'Policy B', 'B - A', 'Outcome'],
        c.differences
          .slice(0, DIFFERENCES_SHOWN)
          .map((d: DecisionDifference) => [
            d.customerId,
            reasonLabel(d.reason),
            describeSide(c, d.a, d.currency),
            describeSide(c, d.b, d.currency),
            signedMoney(c, d.expectedValueDelta, d.currency),
            outcomeLabel(d.outcome),
          ]),
        ['l', 'l', 'l', 'l', 'r', 'l'],
      ),
    );
  }
  return `${out.join('\n')}\n`;
}
