/**
 * `churnctl experiment report`: replays one history through the whole in-process
 * pipeline under a policy that runs an experiment, and reports how each arm fared (see
 * experiment-report.ts): a text table on stdout, everything as JSON with `--json`.
 */
import { writeFileSync } from 'node:fs';
import type { LearningSnapshot, TaskOutcome } from '@churn/contracts';
import { LEARNING_SNAPSHOTS_TOPIC, loadPolicy, type Policy } from '@churn/domain';
import { readJsonFile } from '@churn/runtime';
import { RunCollector } from './backtest.ts';
import { type ExperimentReport, experimentReport, renderExperimentText } from './experiment-report.ts';
import { checkReadable, checkWritable } from './files.ts';
import { parseLine, readLines } from './offline.ts';
import { type DeadLine, replay } from './replay.ts';

const OUTCOME_TOPIC = 'contact-center.task-outcomes.v1';
const PROFILE_TOPIC = 'customer.profiles.v1';

export const EXPERIMENT_USAGE = `  churnctl experiment report --in FILE --policy FILE [--json FILE]
      Replays FILE under a policy that runs an experiment and reports each arm:
      customers, decisions, win-backs, retention tries and saves, the save rate with
      its 95% interval and its difference from the first arm (the control), and the
      value kept (remaining lifetime value of the customers saved, less the offer's
      cost) per currency. Prints a table; --json writes the whole report.
`;

export const EXPERIMENT_OPTIONS = {
  in: { type: 'string' },
  policy: { type: 'string' },
  json: { type: 'string' },
} as const;

/** `experiment report`'s options as parseArgs read them. */
export interface ExperimentValues {
  in?: string | undefined;
  policy?: string | undefined;
  json?: string | undefined;
}

export interface ExperimentArgs {
  inPath: string;
  policyPath: string;
  jsonPath: string | undefined;
}

/** Checks `experiment report`'s options; `usage` makes the error for a usage mistake. */
export function experimentArgs(values: ExperimentValues, usage: (message: string) => Error): ExperimentArgs {
  if (!values.in) throw usage('--in is required');
  if (!values.policy) throw usage('--policy is required (a policy that defines an experiment)');
  if (values.json === '') throw usage('--json needs a file name');
  return { inPath: values.in, policyPath: values.policy, jsonPath: values.json };
}

/** The history's outcomes in file order, and its customers (lines that break the contracts are left to the replay). */
async function historyOf(inPath: string): Promise<{ outcomes: TaskOutcome[]; customers: string[] }> {
  const outcomes: TaskOutcome[] = [];
  const customers = new Set<string>();
  for await (const { line } of readLines(inPath)) {
    const outcome = line.includes(OUTCOME_TOPIC);
    if (!outcome && !line.includes(PROFILE_TOPIC)) continue;
    const parsed = parseLine(line);
    if (!parsed.ok) continue;
    if (parsed.event.topic === OUTCOME_TOPIC) outcomes.push(parsed.event.value as TaskOutcome);
    else if (parsed.event.topic === PROFILE_TOPIC) customers.add(parsed.event.key);
  }
  return { outcomes, customers: [...customers] };
}

export interface ExperimentRunOptions {
  /** Called with the lines read every `progressEvery` lines of the replay. */
  onProgress?: (lines: number) => void;
  progressEvery?: number;
}

/** Replays `inPath` under `policy` (which must define an experiment) and builds the report. */
export async function runExperimentReport(
  inPath: string,
  source: string,
  policy: Policy,
  options: ExperimentRunOptions = {},
): Promise<{ report: ExperimentReport; deadLetters: DeadLine[] }> {
  const collector = new RunCollector();
  let lastSnapshot: LearningSnapshot | null = null;
  const result = await replay(
    inPath,
    {
      policy,
      internal: true,
      onProgress: options.onProgress ? (lines) => options.onProgress?.(lines) : undefined,
      progressEvery: options.progressEvery,
    },
    (record) => {
      if (record.topic === LEARNING_SNAPSHOTS_TOPIC) {
        const snapshot = record.value as LearningSnapshot;
        if (snapshot.partition === 0) lastSnapshot = snapshot;
      } else collector.add(record);
    },
    () => {},
  );
  const { outcomes, customers } = await historyOf(inPath);
  const report = experimentReport(
    {
      source,
      policy,
      decisions: collector.decisions,
      retentionCalls: collector.retentionCalls,
      customers,
      lastSnapshot,
    },
    outcomes,
    { file: inPath, lines: result.lines, events: result.events, badLines: result.deadLetters.length },
  );
  return { report, deadLetters: result.deadLetters };
}

export interface ExperimentIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Runs `churnctl experiment report` with its parsed options. Usage mistakes throw
 * `usage(...)`, a policy without an experiment among them; an unreadable history, an
 * unreadable or invalid policy, or an unwritable output throws an Error naming the file.
 */
export async function experimentCommand(
  values: ExperimentValues,
  usage: (message: string) => Error,
  io: ExperimentIo = process,
): Promise<number> {
  const args = experimentArgs(values, usage);
  checkReadable(args.inPath);
  let policy: Policy;
  try {
    policy = loadPolicy(readJsonFile(args.policyPath));
  } catch (err) {
    throw new Error(`policy ${args.policyPath}: ${(err as Error).message}`);
  }
  if (policy.experiment === null)
    throw usage(
      `the policy ${args.policyPath} (${policy.version}) defines no experiment (an "experiment" section with a name and at least two arms)`,
    );
  if (args.jsonPath) checkWritable(args.jsonPath);
  const started = Date.now();
  io.stderr.write(
    `experiment: ${policy.experiment.name}, policy ${policy.version} (${args.policyPath}), arms ${policy.experiment.arms.map((a) => a.name).join(', ')}\n`,
  );
  const { report, deadLetters } = await runExperimentReport(args.inPath, args.policyPath, policy, {
    onProgress: (lines) => io.stderr.write(`experiment: ${lines} lines read\n`),
  });
  for (const dead of deadLetters.slice(0, 20))
    io.stderr.write(`experiment: line ${dead.line}: ${dead.code}: ${dead.reason}\n`);
  if (deadLetters.length > 20) io.stderr.write(`experiment: ... and ${deadLetters.length - 20} more bad lines\n`);
  io.stderr.write(
    `experiment: ${report.history.events} events, ${report.history.badLines} bad lines, ${report.totals.decisions} decisions, ${report.totals.tries} tries, in ${Date.now() - started} ms\n`,
  );
  io.stdout.write(renderExperimentText(report));
  if (args.jsonPath) {
    writeFileSync(args.jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    io.stderr.write(`experiment: report written to ${args.jsonPath}\n`);
  }
  return 0;
}
