/**
 * `churnctl backtest`: replays one history once per policy through the whole in-process
 * pipeline, compares what the two policies decide (see backtest.ts), prints the text
 * report, and writes the comparison as JSON and as one self-contained HTML page.
 */
import { writeFileSync } from 'node:fs';
import type { TaskOutcome } from '@churn/contracts';
import { loadPolicy, type Policy } from '@churn/domain';
import { readJsonFile } from '@churn/runtime';
import { type BacktestComparison, compareRuns, type PolicyLabel, type PolicyRun, RunCollector } from './backtest.ts';
import { renderBacktestHtml } from './backtest-html.ts';
import { renderBacktestText } from './backtest-report.ts';
import { checkReadable, checkWritable } from './files.ts';
import { parseLine, readLines } from './offline.ts';
import { type DeadLine, replay } from './replay.ts';

const OUTCOME_TOPIC = 'contact-center.task-outcomes.v1';

export interface BacktestPolicy {
  source: string;
  policy: Policy;
}

export interface BacktestRunOptions {
  /** Called with (policy label, lines read) every `progressEvery` lines of each replay. */
  onProgress?: (label: PolicyLabel, lines: number) => void;
  progressEvery?: number;
}

export interface BacktestRun {
  comparison: BacktestComparison;
  /** Lines policy A's replay could not process (the same lines fail under B). */
  deadLetters: DeadLine[];
}

/** The history's outcomes, in file order (lines that break the contracts are left to the replay to report). */
async function outcomesOf(inPath: string): Promise<TaskOutcome[]> {
  const outcomes: TaskOutcome[] = [];
  for await (const { line } of readLines(inPath)) {
    if (!line.includes(OUTCOME_TOPIC)) continue;
    const parsed = parseLine(line);
    if (parsed.ok && parsed.event.topic === OUTCOME_TOPIC) outcomes.push(parsed.event.value as TaskOutcome);
  }
  return outcomes;
}

/** Replays `inPath` under both policies and compares the runs. */
export async function runBacktest(
  inPath: string,
  policies: readonly [BacktestPolicy, BacktestPolicy],
  options: BacktestRunOptions = {},
): Promise<BacktestRun> {
  const runs: PolicyRun[] = [];
  let facts = { file: inPath, lines: 0, events: 0, badLines: 0 };
  let deadLetters: DeadLine[] = [];
  for (const [i, { source, policy }] of policies.entries()) {
    const label: PolicyLabel = i === 0 ? 'A' : 'B';
    const collector = new RunCollector();
    const result = await replay(
      inPath,
      {
        policy,
        onProgress: options.onProgress ? (lines) => options.onProgress?.(label, lines) : undefined,
        progressEvery: options.progressEvery,
      },
      (record) => collector.add(record),
      () => {},
    );
    if (i === 0) {
      facts = { file: inPath, lines: result.lines, events: result.events, badLines: result.deadLetters.length };
      deadLetters = result.deadLetters;
    }
    runs.push({
      source,
      policy,
      decisions: collector.decisions,
      retentionCalls: collector.retentionCalls,
      badLines: result.deadLetters.length,
    });
  }
  const outcomes = await outcomesOf(inPath);
  const comparison = compareRuns(runs[0] as PolicyRun, runs[1] as PolicyRun, outcomes, { history: facts });
  return { comparison, deadLetters };
}

export const BACKTEST_USAGE = `  churnctl backtest --in FILE --policy A.json --policy B.json [--html FILE] [--json FILE]
      Replays FILE once under each policy and compares them: the decisions that
      differ, the value at stake per policy and cancellation reason, and each
      policy's assumed save rates against the outcomes in FILE. Prints a text
      report; --html writes a self-contained page with charts, --json the whole
      comparison.
`;

export const BACKTEST_OPTIONS = {
  in: { type: 'string' },
  policy: { type: 'string', multiple: true },
  html: { type: 'string' },
  json: { type: 'string' },
} as const;

/** `backtest`'s options as parseArgs read them. */
export interface BacktestValues {
  in?: string | undefined;
  policy?: string[] | undefined;
  html?: string | undefined;
  json?: string | undefined;
}

export interface BacktestArgs {
  inPath: string;
  policyPaths: [string, string];
  htmlPath: string | undefined;
  jsonPath: string | undefined;
}

/** Checks `backtest`'s options; `usage` makes the error for a usage mistake. */
export function backtestArgs(values: BacktestValues, usage: (message: string) => Error): BacktestArgs {
  if (!values.in) throw usage('--in is required');
  const policies = values.policy ?? [];
  if (policies.length !== 2)
    throw usage(`backtest compares exactly two policies: give --policy twice (A, then B), got ${policies.length}`);
  for (const [flag, value] of [
    ['--html', values.html],
    ['--json', values.json],
  ] as const) {
    if (value === '') throw usage(`${flag} needs a file name`);
  }
  return {
    inPath: values.in,
    policyPaths: policies as [string, string],
    htmlPath: values.html,
    jsonPath: values.json,
  };
}

function policyFrom(path: string, label: PolicyLabel): BacktestPolicy {
  try {
    return { source: path, policy: loadPolicy(readJsonFile(path)) };
  } catch (err) {
    throw new Error(`policy ${label} (${path}): ${(err as Error).message}`);
  }
}

export interface BacktestIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Runs `churnctl backtest` with its parsed options. Usage mistakes throw `usage(...)`; an
 * unreadable history, an unreadable or invalid policy, or an unwritable output throws an
 * Error naming the file.
 */
export async function backtestCommand(
  values: BacktestValues,
  usage: (message: string) => Error,
  io: BacktestIo = process,
): Promise<number> {
  const args = backtestArgs(values, usage);
  checkReadable(args.inPath);
  const policies = [policyFrom(args.policyPaths[0], 'A'), policyFrom(args.policyPaths[1], 'B')] as const;
  if (args.htmlPath) checkWritable(args.htmlPath);
  if (args.jsonPath) checkWritable(args.jsonPath);
  const started = Date.now();
  for (const [label, p] of [
    ['A', policies[0]],
    ['B', policies[1]],
  ] as const)
    io.stderr.write(`backtest: policy ${label}: ${p.policy.version} (${p.source})\n`);
  const { comparison, deadLetters } = await runBacktest(args.inPath, policies, {
    onProgress: (label, lines) =>
      io.stderr.write(
        `backtest: policy ${label} (${policies[label === 'A' ? 0 : 1].policy.version}): ${lines} lines read\n`,
      ),
  });
  for (const dead of deadLetters.slice(0, 20))
    io.stderr.write(`backtest: line ${dead.line}: ${dead.code}: ${dead.reason}\n`);
  if (deadLetters.length > 20) io.stderr.write(`backtest: ... and ${deadLetters.length - 20} more bad lines\n`);
  io.stderr.write(
    `backtest: ${comparison.history.events} events, ${comparison.history.badLines} bad lines, ${comparison.cancellations} cancellations, ${comparison.differences.length} decided differently, in ${Date.now() - started} ms\n`,
  );
  io.stdout.write(renderBacktestText(comparison));
  if (args.jsonPath) {
    writeFileSync(args.jsonPath, `${JSON.stringify(comparison, null, 2)}\n`);
    io.stderr.write(`backtest: comparison written to ${args.jsonPath}\n`);
  }
  if (args.htmlPath) {
    writeFileSync(args.htmlPath, renderBacktestHtml(comparison));
    io.stderr.write(`backtest: report written to ${args.htmlPath}\n`);
  }
  return 0;
}
