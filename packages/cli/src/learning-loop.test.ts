/**
 * The learning loop through the real pipeline (every topology, the in-process runner of
 * `churnctl replay`): outcomes of the pipeline's own retention tasks change later
 * decisions, and never an earlier one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChurnDecision, ContactTask, TaskOutcome } from '@churn/contracts';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, type OutputRecord, readJsonFile } from '@churn/runtime';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from './generate.ts';
import type { OfflineEvent } from './offline.ts';
import { replay } from './replay.ts';

const DAY = 86_400_000;
const policy = loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));

async function run(events: readonly OfflineEvent[]): Promise<OutputRecord[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'churn-loop-')), 'input.jsonl');
  const ordered = [...events].sort(
    (a, b) => (a.value as { occurredAt: number }).occurredAt - (b.value as { occurredAt: number }).occurredAt,
  );
  writeFileSync(file, `${ordered.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const out: OutputRecord[] = [];
  const result = await replay(
    file,
    { policy },
    (r) => void out.push(r),
    () => {},
  );
  expect(result.deadLetters).toEqual([]);
  return out;
}

const decisionsOf = (out: readonly OutputRecord[]) =>
  out.filter((r) => r.topic === 'churn.decisions.v1').map((r) => r.value as ChurnDecision);

describe('the learning loop', () => {
  it('learns from outcomes from the next midnight on: a decision they came just before stays as it was', async () => {
    expect(policy.learning.enabled).toBe(true);
    // Outcomes are left out of the history, so that only the ones this test adds are learned from.
    const history = generatePopulation({ customers: 150, months: 14, seed: 11 }).filter(
      (e) => e.topic !== 'contact-center.task-outcomes.v1',
    );
    const before = await run(history);
    const decisions = decisionsOf(before);
    const calls = before
      .filter((r) => r.topic === 'contact-center.tasks.v1')
      .map((r) => r.value as ContactTask)
      .filter((t) => t.kind === 'RETENTION_CALL' && t.offer !== 'EXECUTIVE_ESCALATION');
    // A decision in the second half that weighs an offer earlier calls carried, far enough
    // into its day that outcomes can come earlier the same day.
    const sorted = [...decisions].sort((a, b) => a.occurredAt - b.occurredAt);
    const target = sorted
      .slice(Math.floor(sorted.length / 2))
      .find(
        (d) =>
          d.occurredAt % DAY > 3_600_000 &&
          d.offersWeighed.some((o) => calls.some((t) => t.offer === o.offer && t.occurredAt < d.occurredAt - DAY)),
      ) as ChurnDecision;
    expect(target).toBeDefined();
    const cut = target.occurredAt - 60_000;
    // Every retention call decided before, reported lost a minute before the target decision.
    const earlier = calls.filter((t) => t.occurredAt < cut - DAY);
    expect(earlier.length).toBeGreaterThan(5);
    const lost: OfflineEvent[] = earlier.map((t, i) => {
      const outcome: TaskOutcome = {
        eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        occurredAt: cut,
        taskId: t.taskId,
        customerId: t.customerId,
        outcome: 'LOST',
        note: null,
      };
      return { topic: 'contact-center.task-outcomes.v1', key: t.customerId, value: outcome };
    });
    const after = decisionsOf(await run([...history, ...lost]));
    expect(after.map((d) => d.causationId)).toEqual(decisions.map((d) => d.causationId));

    // A decision uses what was known at the midnight before it: up to the end of the cut's
    // day, every decision is the same, byte for byte, the target's too.
    expect(decisions.filter((d) => d.occurredAt < Math.floor(cut / DAY) * DAY + DAY)).toContainEqual(target);
    const learnedFrom = Math.floor(cut / DAY) * DAY + DAY;
    const byCause = new Map(after.map((d) => [d.causationId, d]));
    const unchanged = decisions.filter((d) => d.occurredAt < learnedFrom);
    for (const d of unchanged) expect(byCause.get(d.causationId)).toEqual(d);
    // From the next midnight on, the losses are known: they show as tries in what the
    // decisions record, and lower the probabilities of the offers they were about.
    const later = decisions.filter((d) => d.occurredAt >= learnedFrom);
    expect(later.length).toBeGreaterThan(0);
    const triesOf = (d: ChurnDecision) => d.offersWeighed.reduce((n, o) => n + o.observedTries, 0);
    const moreTries = later.filter((d) => triesOf(byCause.get(d.causationId) as ChurnDecision) > triesOf(d));
    expect(moreTries.length).toBeGreaterThan(0);
    for (const d of moreTries) {
      const changed = byCause.get(d.causationId) as ChurnDecision;
      for (const o of changed.offersWeighed) {
        const was = d.offersWeighed.find((w) => w.offer === o.offer);
        if (was && o.observedTries > was.observedTries) expect(o.probability).toBeLessThan(was.probability);
      }
      expect(changed.learnedAsOf).toBe(d.learnedAsOf);
    }
  });
});
