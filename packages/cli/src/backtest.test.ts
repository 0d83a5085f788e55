import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChurnDecision, ContactTask, TaskOutcome } from '@churn/contracts';
import { loadPolicy, type Policy, type PolicyDocument } from '@churn/domain';
import type { OutputRecord } from '@churn/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BacktestComparison, compareRuns, type PolicyRun, RunCollector } from './backtest.ts';
import { escapeHtml, renderBacktestHtml } from './backtest-html.ts';
import { DIFFERENCES_SHOWN, renderBacktestText } from './backtest-report.ts';
import { generatePopulation } from './generate.ts';
import { replay } from './replay.ts';

const repoRoot = resolve(import.meta.dirname, '../../..');
/**
 * policies/default.json with learning off: a changed offer then touches exactly the
 * decisions that weigh it. Learning on, one decision's outcome changes what later ones
 * learn, so any change may move decisions anywhere after it (the command's own test runs
 * the policies as they are).
 */
const DEFAULT_DOC = {
  ...(JSON.parse(readFileSync(join(repoRoot, 'policies/default.json'), 'utf8')) as PolicyDocument),
};
DEFAULT_DOC.learning = { ...DEFAULT_DOC.learning, enabled: false };
const SAVED = new Set(['RETAINED', 'PAUSED', 'DOWNGRADED']);

/** policies/default.json with a change, under another version. */
function variant(version: string, change: (doc: PolicyDocument) => void): { doc: PolicyDocument; policy: Policy } {
  const doc = structuredClone(DEFAULT_DOC);
  doc.version = version;
  change(doc);
  return { doc, policy: loadPolicy(doc) };
}

interface Replayed {
  run: PolicyRun;
  outputs: OutputRecord[];
}

async function replayed(file: string, policy: Policy, source: string): Promise<Replayed> {
  const collector = new RunCollector();
  const outputs: OutputRecord[] = [];
  const result = await replay(
    file,
    { policy },
    (record) => {
      outputs.push(record);
      collector.add(record);
    },
    () => {},
  );
  return {
    outputs,
    run: {
      source,
      policy,
      decisions: collector.decisions,
      retentionCalls: collector.retentionCalls,
      badLines: result.deadLetters.length,
    },
  };
}

const decisionsOf = (outputs: OutputRecord[]) =>
  new Map(
    outputs
      .filter((o) => o.topic === 'churn.decisions.v1')
      .map((o) => [(o.value as ChurnDecision).causationId, o.value as ChurnDecision]),
  );

const history = { file: 'history.jsonl', lines: 0, events: 0, badLines: 0 };

let file: string;
let outcomes: TaskOutcome[];
let base: Replayed;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'backtest-'));
  file = join(dir, 'history.jsonl');
  const events = generatePopulation({ customers: 260, months: 14, seed: 11 });
  writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  outcomes = events.filter((e) => e.topic === 'contact-center.task-outcomes.v1').map((e) => e.value as TaskOutcome);
  base = await replayed(file, loadPolicy(DEFAULT_DOC), 'policies/default.json');
}, 60_000);

/** Each variant changes one offer's probability or cost; `weighs` says which decisions it can touch. */
const VARIANTS = [
  {
    name: 'a lower probability for a cheaper plan when the price is the reason',
    change: (doc: PolicyDocument) => {
      doc.offers.PRICE!.DOWNGRADE!.probability = 0.2;
    },
    reason: 'PRICE',
    offer: 'DOWNGRADE',
  },
  {
    name: 'a dearer service recovery',
    change: (doc: PolicyDocument) => {
      doc.offerCosts.SERVICE_RECOVERY = { basis: 'fixed', amount: 3000 };
    },
    reason: 'SERVICE_ISSUE',
    offer: 'SERVICE_RECOVERY',
  },
] as const;

describe('compareRuns', () => {
  for (const v of VARIANTS) {
    it(`lists exactly the decisions that change under ${v.name}`, async () => {
      const b = await replayed(file, variant(`test-${v.offer}`, v.change).policy, 'b.json');
      const c = compareRuns(base.run, b.run, outcomes, { history });
      const a = decisionsOf(base.outputs);
      const bd = decisionsOf(b.outputs);
      expect(c.cancellations).toBe(a.size);
      // The decisions that weighed the changed offer are the only ones that can change.
      const touched = new Set(
        [...a.values()]
          .filter((d) => d.reason === v.reason && d.offersWeighed.some((w) => w.offer === v.offer))
          .map((d) => d.causationId),
      );
      const differs = (id: string) => {
        const x = a.get(id) as ChurnDecision;
        const y = bd.get(id) as ChurnDecision;
        return x.action !== y.action || x.offer !== y.offer || x.expectedValue !== y.expectedValue;
      };
      const expected = [...a.keys()].filter(differs).sort();
      const listed = c.differences.map((d) => d.cancellation).sort();
      expect(listed).toEqual(expected);
      expect(listed.length).toBeGreaterThan(0);
      for (const id of listed) expect(touched.has(id)).toBe(true);
      // Every decision that chose the changed offer under A is among them.
      for (const d of a.values())
        if (d.reason === v.reason && d.offer === v.offer) expect(listed).toContain(d.causationId);
      // Each listed side is what its run decided.
      for (const d of c.differences) {
        const x = a.get(d.cancellation) as ChurnDecision;
        const y = bd.get(d.cancellation) as ChurnDecision;
        expect(d.a).toMatchObject({ action: x.action, offer: x.offer, expectedValue: x.expectedValue });
        expect(d.b).toMatchObject({ action: y.action, offer: y.offer, expectedValue: y.expectedValue });
        expect(d).toMatchObject({ customerId: x.customerId, reason: x.reason, currency: x.value.currency });
        expect(d.expectedValueDelta).toBe(y.expectedValue - x.expectedValue);
      }
    });
  }

  it('uses the changed probability where the decision chose the changed offer', async () => {
    const b = await replayed(file, variant('test-downgrade', VARIANTS[0].change).policy, 'b.json');
    const c = compareRuns(base.run, b.run, outcomes, { history });
    const chose = c.differences.filter((d) => d.a?.offer === 'DOWNGRADE' && d.b?.offer === 'DOWNGRADE');
    expect(chose.length).toBeGreaterThan(0);
    for (const d of chose) expect([d.a?.probability, d.b?.probability]).toEqual([0.5, 0.2]);
  });

  it('totals equal the sums over the decisions, and the change in totals the sum over the listed decisions', async () => {
    const b = await replayed(file, variant('test-downgrade', VARIANTS[0].change).policy, 'b.json');
    const c = compareRuns(base.run, b.run, outcomes, { history });
    const sums = (decisions: Iterable<ChurnDecision>) => {
      const out = new Map<string, { ev: number; win: number; go: number; n: number }>();
      for (const d of decisions) {
        const t = out.get(d.value.currency) ?? { ev: 0, win: 0, go: 0, n: 0 };
        t.ev += d.expectedValue;
        t.n++;
        if (d.action === 'WIN_BACK') t.win += d.value.remainingLifetimeValue;
        else t.go += d.value.remainingLifetimeValue;
        out.set(d.value.currency, t);
      }
      return out;
    };
    for (const [summary, outputs] of [
      [c.policies[0], base.outputs],
      [c.policies[1], b.outputs],
    ] as const) {
      const expected = sums(decisionsOf(outputs).values());
      expect(summary.totals.map((t) => t.currency)).toEqual([...expected.keys()].sort());
      for (const t of summary.totals) {
        const e = expected.get(t.currency);
        expect([t.expectedValue, t.winBackLifetimeValue, t.letGoLifetimeValue, t.decisions]).toEqual([
          e?.ev,
          e?.win,
          e?.go,
          e?.n,
        ]);
      }
      // The reasons add up to the totals.
      for (const t of summary.totals) {
        const byReason = summary.byReason.flatMap((r) => r.totals.filter((x) => x.currency === t.currency));
        expect(byReason.reduce((s, x) => s + x.expectedValue, 0)).toBe(t.expectedValue);
        expect(byReason.reduce((s, x) => s + x.winBackLifetimeValue, 0)).toBe(t.winBackLifetimeValue);
        expect(byReason.reduce((s, x) => s + x.letGoLifetimeValue, 0)).toBe(t.letGoLifetimeValue);
      }
      expect(summary.winBack + summary.letGo).toBe(summary.decisions);
    }
    // Decisions not listed are alike, so B - A is the sum over the listed ones.
    for (const ta of c.policies[0].totals) {
      const tb = c.policies[1].totals.find((t) => t.currency === ta.currency);
      const listed = c.differences.filter((d) => d.currency === ta.currency);
      expect((tb?.expectedValue ?? 0) - ta.expectedValue).toBe(listed.reduce((s, d) => s + d.expectedValueDelta, 0));
      const kept = (side: 'a' | 'b') =>
        listed.reduce((s, d) => s + (d[side]?.action === 'WIN_BACK' ? d.remainingLifetimeValue : 0), 0);
      expect((tb?.winBackLifetimeValue ?? 0) - ta.winBackLifetimeValue).toBe(kept('b') - kept('a'));
    }
  });

  it("observed save rates are the history's outcomes of each policy's retention calls, by reason and offer", async () => {
    const b = await replayed(file, variant('test-recovery', VARIANTS[1].change).policy, 'b.json');
    const c = compareRuns(base.run, b.run, outcomes, { history });
    for (const [summary, outputs] of [
      [c.policies[0], base.outputs],
      [c.policies[1], b.outputs],
    ] as const) {
      // Counted here from the tasks themselves: a retention call's causationId is its cancellation.
      const decisions = decisionsOf(outputs);
      const calls = new Map(
        outputs
          .filter((o) => o.topic === 'contact-center.tasks.v1' && (o.value as ContactTask).kind === 'RETENTION_CALL')
          .map((o) => [(o.value as ContactTask).taskId, o.value as ContactTask]),
      );
      const expected = new Map<string, { saves: number; tries: number; noContact: number }>();
      let matched = 0;
      for (const o of outcomes) {
        const call = calls.get(o.taskId);
        const decision = call && decisions.get(call.causationId);
        if (!call || !decision) continue;
        matched++;
        const key = `${decision.reason}/${call.offer}`;
        const t = expected.get(key) ?? { saves: 0, tries: 0, noContact: 0 };
        if (o.outcome === 'NO_CONTACT') t.noContact++;
        else if (SAVED.has(o.outcome) || o.outcome === 'LOST') {
          t.tries++;
          if (SAVED.has(o.outcome)) t.saves++;
        }
        expected.set(key, t);
      }
      expect(matched).toBeGreaterThan(10);
      expect(summary.outcomes.matched).toBe(matched);
      expect(summary.outcomes.matched + summary.outcomes.notMatched).toBe(outcomes.length);
      const counted = summary.saveRates.filter((r) => r.tries + r.noContact > 0);
      expect(new Set(counted.map((r) => `${r.reason}/${r.offer}`))).toEqual(
        new Set([...expected].filter(([, t]) => t.tries + t.noContact > 0).map(([k]) => k)),
      );
      for (const r of summary.saveRates) {
        const t = expected.get(`${r.reason}/${r.offer}`) ?? { saves: 0, tries: 0, noContact: 0 };
        expect([r.saves, r.tries, r.noContact]).toEqual([t.saves, t.tries, t.noContact]);
        expect(r.observed).toBe(t.tries > 0 ? t.saves / t.tries : null);
      }
    }
  });

  it("shows each policy's prior from its offers table, and the probability its decisions used", async () => {
    const { doc, policy } = variant('test-downgrade', VARIANTS[0].change);
    const b = await replayed(file, policy, 'b.json');
    const c = compareRuns(base.run, b.run, outcomes, { history });
    for (const [summary, document, outputs] of [
      [c.policies[0], DEFAULT_DOC, base.outputs],
      [c.policies[1], doc, b.outputs],
    ] as const) {
      expect(summary.saveRates.length).toBeGreaterThan(0);
      for (const r of summary.saveRates) {
        const table = document.offers as Record<string, Record<string, { probability: number }> | undefined>;
        expect(r.prior).toBe(table[r.reason]?.[r.offer]?.probability ?? null);
        const used = [...decisionsOf(outputs).values()]
          .filter((d) => d.reason === r.reason)
          .flatMap((d) => d.offersWeighed.filter((w) => w.offer === r.offer).map((w) => w.probability));
        if (used.length === 0) expect(r.used).toBeNull();
        else expect(r.used).toMatchObject({ decisions: used.length, min: Math.min(...used), max: Math.max(...used) });
      }
    }
    const downgrade = (s: BacktestComparison['policies'][number]) =>
      s.saveRates.find((r) => r.reason === 'PRICE' && r.offer === 'DOWNGRADE');
    expect([downgrade(c.policies[0])?.prior, downgrade(c.policies[1])?.prior]).toEqual([0.5, 0.2]);
  });

  it('reads the prior and the observed tally a decision carries, and does without them', () => {
    const carrying = base.run.decisions.map((d) => ({
      ...d,
      offersWeighed: d.offersWeighed.map((w) => ({ ...w, prior: 0.25, observedSaves: 7, observedTries: 20 })),
    }));
    // Records from before the pipeline learned carry no prior.
    const without = base.run.decisions.map((d) => ({
      ...d,
      offersWeighed: d.offersWeighed.map((w) => ({ ...w, prior: null, observedSaves: 0, observedTries: 0 })),
    }));
    const c = compareRuns({ ...base.run, decisions: carrying }, { ...base.run, decisions: without }, outcomes, {
      history,
    });
    const weighed = c.policies[0].saveRates.filter((r) => r.used !== null);
    expect(weighed.length).toBeGreaterThan(0);
    for (const r of weighed) expect(r.used).toMatchObject({ meanPrior: 0.25, lastObserved: { saves: 7, tries: 20 } });
    for (const r of c.policies[1].saveRates.filter((x) => x.used !== null))
      expect(r.used).toMatchObject({ meanPrior: null, lastObserved: null });
    // A decision made before anything was observed carries an empty tally: nothing learned.
    const empty = base.run.decisions.map((d) => ({
      ...d,
      offersWeighed: d.offersWeighed.map((w) => ({ ...w, prior: w.probability, observedSaves: 0, observedTries: 0 })),
    }));
    const e = compareRuns({ ...base.run, decisions: empty }, base.run, outcomes, { history });
    for (const r of e.policies[0].saveRates.filter((x) => x.used !== null))
      expect(r.used).toMatchObject({ meanPrior: r.used?.mean, lastObserved: null });
    // The decisions are otherwise the same: nothing differs.
    expect(c.differences).toEqual([]);
  });

  it('counts the first outcome that closes a call: not reached leaves it open, later outcomes are ignored', () => {
    const call = base.run.retentionCalls.find((r) =>
      base.run.decisions.some((d) => d.causationId === r.causationId && d.action === 'WIN_BACK'),
    );
    expect(call).toBeDefined();
    const decision = base.run.decisions.find((d) => d.causationId === call?.causationId) as ChurnDecision;
    const outcome = (kind: TaskOutcome['outcome'], taskId = call?.taskId as string): TaskOutcome => ({
      eventId: `o-${kind}-${taskId}`,
      occurredAt: decision.occurredAt + 1,
      taskId,
      customerId: decision.customerId,
      outcome: kind,
      note: null,
    });
    const c = compareRuns(
      base.run,
      base.run,
      [
        outcome('NO_CONTACT'),
        outcome('RETAINED'),
        outcome('LOST'),
        outcome('COMPLETED'),
        outcome('LOST', 'no-such-task'),
      ],
      { history },
    );
    expect(c.policies[0].outcomes).toEqual({
      total: 5,
      matched: 4,
      saves: 1,
      losses: 0,
      noContact: 1,
      other: 0,
      notMatched: 1,
      afterClosed: 2,
    });
    const row = c.policies[0].saveRates.find((r) => r.reason === decision.reason && r.offer === call?.offer);
    expect(row).toMatchObject({ saves: 1, tries: 1, observed: 1, noContact: 1 });
  });
});

describe('backtest reports', () => {
  let comparison: BacktestComparison;
  beforeAll(async () => {
    const b = await replayed(file, variant('test-downgrade', VARIANTS[0].change).policy, 'b.json');
    comparison = compareRuns(base.run, b.run, outcomes, { history });
  });

  it('the text report has the headline, value, save-rate and difference tables', () => {
    const text = renderBacktestText(comparison);
    expect(text).toContain(`Cancellations decided: ${comparison.cancellations}.`);
    expect(text).toContain('Value at stake (money in major units)');
    expect(text).toContain('Save rates by reason and offer');
    expect(text).toContain(`Decisions that differ: ${comparison.differences.length}`);
    // Money in major units with the currency, as the decisions' reasons write it.
    const first = comparison.differences[0];
    expect(first).toBeDefined();
    expect(text).toContain(first?.customerId);
    expect(text).toMatch(/\d \d{3} (DKK|SEK|NOK|EUR)/);
  });

  it('the HTML page is self-contained, escapes what it shows, and draws bars', () => {
    const hostile = structuredClone(comparison);
    hostile.policies[1].source = '/tmp/<script>alert("x")</script>&.json';
    hostile.policies[1].version = "v'<b>";
    const html = renderBacktestHtml(hostile);
    expect(html).not.toContain('<script');
    expect(html).toContain(escapeHtml('/tmp/<script>alert("x")</script>&.json'));
    expect(html).toContain('v&#39;&lt;b&gt;');
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(|@import|<link/i);
    const charts = [...html.matchAll(/<svg class="chart" data-chart="([^"]+)"[\s\S]*?<\/svg>/g)];
    expect(charts.map((m) => m[1])).toContain('save-rates');
    expect(charts.some((m) => m[1]?.startsWith('value-'))).toBe(true);
    for (const [svg] of charts) {
      const widths = [
        ...svg.matchAll(/<rect class="(?:bar|mark)[^"]*" x="[^"]+" y="[^"]+" width="([^"]+)" height="([^"]+)"/g),
      ];
      expect(widths.some(([, w, h]) => Number(w) > 0 && Number(h) > 0)).toBe(true);
    }
    const rows = html.match(/<tr><td class="id">/g) ?? [];
    expect(rows.length).toBe(Math.min(comparison.differences.length, DIFFERENCES_SHOWN));
  });

  it('the HTML table of differing decisions stops at its cap and says so', () => {
    const many = structuredClone(comparison);
    const one = comparison.differences[0];
    expect(one).toBeDefined();
    many.differences = Array.from({ length: DIFFERENCES_SHOWN + 50 }, (_, i) => ({
      ...(one as NonNullable<typeof one>),
      cancellation: `c-${i}`,
      customerId: `cust-${i}`,
    }));
    const html = renderBacktestHtml(many);
    expect(html.match(/<tr><td class="id">/g)?.length).toBe(DIFFERENCES_SHOWN);
    expect(html).toContain(`Showing the ${DIFFERENCES_SHOWN} largest of ${DIFFERENCES_SHOWN + 50} differences`);
    expect(renderBacktestText(many)).toContain(`the first ${DIFFERENCES_SHOWN}; --json has them all`);
  });
});
