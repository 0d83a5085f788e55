import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChurnDecision, ContactTask, TaskOutcome } from '@churn/contracts';
import { armOf, loadPolicy, type Policy, retentionTaskIdsOf } from '@churn/domain';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentReport } from './experiment-report.ts';
import { generatePopulation } from './generate.ts';
import { replay } from './replay.ts';
import { churnctl, failure, repoRoot } from './testing/command.ts';

const DEFAULT_POLICY = join(repoRoot, 'policies/default.json');

let dir: string;
let history: string;
let policyFile: string;
let policy: Policy;
let outcomes: TaskOutcome[];
let customers: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'churnctl-experiment-'));
  history = join(dir, 'history.jsonl');
  const events = generatePopulation({ customers: 120, months: 14, seed: 5 });
  writeFileSync(history, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  outcomes = events.filter((e) => e.topic === 'contact-center.task-outcomes.v1').map((e) => e.value as TaskOutcome);
  customers = [...new Set(events.filter((e) => e.topic === 'customer.profiles.v1').map((e) => e.key))];
  // The default policy with an experiment: the second arm believes a cheaper plan keeps
  // four in five customers leaving over price.
  const doc = JSON.parse(readFileSync(DEFAULT_POLICY, 'utf8'));
  doc.experiment = {
    name: 'downgrade-2027',
    arms: [
      { name: 'control', share: 0.5 },
      {
        name: 'generous',
        share: 0.5,
        overrides: { version: 'generous-2027.01', offers: { PRICE: { DOWNGRADE: { probability: 0.8 } } } },
      },
    ],
  };
  policyFile = join(dir, 'experiment.json');
  writeFileSync(policyFile, JSON.stringify(doc, null, 2));
  policy = loadPolicy(doc);
});

/** The replay's decisions and retention calls, in the test's own hands. */
async function replayed(): Promise<{ decisions: ChurnDecision[]; calls: Set<string> }> {
  const decisions: ChurnDecision[] = [];
  const calls = new Set<string>();
  await replay(
    history,
    { policy },
    (record) => {
      if (record.topic === 'churn.decisions.v1') decisions.push(record.value as ChurnDecision);
      else if (record.topic === 'contact-center.tasks.v1' && (record.value as ContactTask).kind === 'RETENTION_CALL')
        calls.add((record.value as ContactTask).taskId);
    },
    () => {},
  );
  return { decisions, calls };
}

describe('churnctl experiment report', () => {
  it('reports each arm of a generated history with the counts of the replay and the outcomes', async () => {
    const json = join(dir, 'report.json');
    const { stdout, stderr } = await churnctl(
      'experiment',
      'report',
      '--in',
      history,
      '--policy',
      policyFile,
      '--json',
      json,
    );
    const report = JSON.parse(readFileSync(json, 'utf8')) as ExperimentReport;
    const { decisions, calls } = await replayed();

    // Every decision is in the arm its customer hashes to, under that arm's policy.
    expect(decisions.length).toBeGreaterThan(10);
    for (const d of decisions) {
      const arm = armOf(policy, d.customerId);
      expect(d.arm).toBe(arm?.name);
      expect(d.policyVersion).toBe(arm?.policy.version);
    }

    // The arms add up to the totals, and the totals to the replay and the history.
    expect(report.experiment).toBe('downgrade-2027');
    expect(report.arms.map((a) => a.arm)).toEqual(['control', 'generous']);
    expect(report.unassigned).toBe(0);
    for (const field of [
      'customersInHistory',
      'customers',
      'decisions',
      'winBacks',
      'letGo',
      'calls',
      'tries',
      'saves',
    ] as const)
      expect(
        report.arms.reduce((s, a) => s + a[field], 0),
        field,
      ).toBe(report.totals[field]);
    expect(report.totals.decisions).toBe(decisions.length);
    expect(report.totals.customersInHistory).toBe(customers.length);
    expect(report.history.outcomes).toBe(outcomes.length);
    for (const a of report.arms) {
      expect(a.decisions, a.arm).toBeGreaterThan(0);
      expect(a.customersInHistory).toBe(customers.filter((c) => armOf(policy, c)?.name === a.arm).length);
      expect(a.decisions).toBe(decisions.filter((d) => d.arm === a.arm).length);
      expect(a.winBacks).toBe(decisions.filter((d) => d.arm === a.arm && d.action === 'WIN_BACK').length);
    }

    // Tries and saves per arm, counted here from the replay's calls and the history's outcomes:
    // the first outcome that closes a call made counts; NO_CONTACT leaves it open.
    const byCall = new Map(decisions.map((d) => [retentionTaskIdsOf(d)[0] as string, d]));
    const closed = new Set<string>();
    const counted: Record<string, { saves: number; tries: number }> = {};
    for (const o of outcomes) {
      const d = byCall.get(o.taskId);
      if (d === undefined || !calls.has(o.taskId) || closed.has(o.taskId) || o.outcome === 'NO_CONTACT') continue;
      closed.add(o.taskId);
      const saved = ['RETAINED', 'PAUSED', 'DOWNGRADED'].includes(o.outcome);
      if (!saved && o.outcome !== 'LOST') continue;
      const tally = counted[d.arm as string] ?? { saves: 0, tries: 0 };
      counted[d.arm as string] = tally;
      tally.tries++;
      if (saved) tally.saves++;
    }
    for (const a of report.arms) {
      expect({ saves: a.saves, tries: a.tries }, a.arm).toEqual(counted[a.arm] ?? { saves: 0, tries: 0 });
      if (a.saveRate !== null) {
        expect(a.saveRate.low).toBeLessThanOrEqual(a.saveRate.rate);
        expect(a.saveRate.high).toBeGreaterThanOrEqual(a.saveRate.rate);
      }
    }
    expect(report.totals.tries).toBeGreaterThan(0);

    // The text says the same.
    expect(stdout).toContain(`Experiment downgrade-2027 over ${history}`);
    for (const a of report.arms) {
      expect(stdout).toMatch(
        new RegExp(
          `\\n {2}${a.arm} +50% +\\S+ +${a.customersInHistory} +${a.customers} +${a.decisions} +${a.winBacks} +${a.tries} +${a.saves} `,
        ),
      );
    }
    expect(stdout).toMatch(/generous saves (\d+ points (more|fewer) than|about as many as) control/);
    expect(stdout).toContain('Value kept');
    expect(stderr).toContain('experiment: downgrade-2027, policy');
    expect(stderr).toMatch(new RegExp(`experiment: \\d+ events, 0 bad lines, ${decisions.length} decisions`));
  }, 120_000);

  it('refuses a policy without an experiment in one line (usage exit code)', async () => {
    const plain = await failure('experiment', 'report', '--in', history, '--policy', DEFAULT_POLICY);
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^churnctl experiment report: the policy .*default\.json .* defines no experiment/),
    ]);
  }, 60_000);

  it('refuses a missing history or a bad policy file, naming the file (exit 1)', async () => {
    const missing = await failure('experiment', 'report', '--in', join(dir, 'nope.jsonl'), '--policy', policyFile);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^churnctl: cannot read .*nope\.jsonl: ENOENT/),
    ]);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ "version": ');
    const bad = await failure('experiment', 'report', '--in', history, '--policy', notJson);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^churnctl: policy .*not\.json: .* is not valid JSON/);
  }, 60_000);

  it('explains its usage without --in or --policy, or without report (usage exit code)', async () => {
    const noIn = await failure('experiment', 'report', '--policy', policyFile);
    expect(noIn.code).toBe(2);
    expect(noIn.stderr).toContain('--in is required');
    const noPolicy = await failure('experiment', 'report', '--in', history);
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain('--policy is required');
    const noSub = await failure('experiment', '--in', history);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toContain('churnctl experiment: takes report');
  }, 60_000);
});
