/**
 * churnctl's commands: each with its own usage and its own options, and the dispatcher
 * that picks one. `churnctl <command> --help` prints that command's usage; `churnctl help`
 * prints every command's. A usage mistake (an option the command does not take, a
 * missing or bad value, an unknown command) is one line naming it and exit code 2; a bad
 * Kafka environment is exit code 78.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { isTopicName } from '@churn/contracts';
import { loadPolicy } from '@churn/domain';
import {
  argumentProblem,
  ConfigError,
  DEFAULT_POLICY_FILE,
  EXIT_USAGE,
  environmentUsage,
  kafkaServiceEnv,
  parseConfig,
  readJsonFile,
} from '@churn/runtime';
import { BACKTEST_OPTIONS, BACKTEST_USAGE, type BacktestValues, backtestCommand } from './backtest-command.ts';
import { inspectDeadLetters, replayDeadLetters } from './dlq.ts';
import {
  EXPERIMENT_OPTIONS,
  EXPERIMENT_USAGE,
  type ExperimentValues,
  experimentCommand,
} from './experiment-command.ts';
import { generatePopulation } from './generate.ts';
import { produceFile, tailTopic } from './kafka-io.ts';
import { formatLine } from './offline.ts';
import { replayToFiles } from './replay.ts';
import { SIMULATE_OPTIONS, SIMULATE_USAGE, type SimulateValues, simulateCommand } from './simulate.ts';
import { SHAPES, type Shape } from './topologies.ts';

/** The exit code of a bad Kafka environment (EX_CONFIG). */
export const EXIT_CONFIG = 78;

/** A mistake on the command line: reported in one line with the command's name, exit code 2. */
export class UsageError extends Error {}

const usageError = (message: string) => new UsageError(message);

/** A usage mistake after a word that names several commands (`dlq`). */
class GroupUsageError extends UsageError {
  readonly group: string;
  constructor(group: string, message: string) {
    super(message);
    this.group = group;
  }
}

/** The options of a command as parseArgs returns them. */
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  /** The words after `churnctl` that name it (`replay`, `dlq inspect`). */
  readonly name: string;
  /** Its synopsis and what it does, as the whole help shows it. */
  readonly usage: string;
  /** The options it takes (`--help` comes on top). */
  readonly options: ParseArgsOptionsConfig;
  /** Takes words after its options (only `help`). */
  readonly positionals?: boolean;
  /** Reads the Kafka environment (KAFKA_BROKERS, SCHEMA_REGISTRY_URL, ...). */
  readonly kafka?: boolean;
  readonly run: (values: Values, positionals: string[]) => Promise<number>;
}

function need<T>(value: T | undefined, flag: string): T {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

function positiveInt(text: string | undefined, flag: string): number {
  const n = Number(need(text, flag));
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number, got ${text}`);
  return n;
}

function time(text: string, flag: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`${flag} must be an ISO date or time, got ${text}`);
  return t;
}

function deadLetterTopic(values: Values): string {
  const topic = need(values.topic as string | undefined, '--topic');
  if (!topic.endsWith('.dlq')) throw new UsageError(`--topic must be a dead-letter topic (<topic>.dlq), got ${topic}`);
  return topic;
}

function idleMs(values: Values): number {
  const text = values['idle-ms'] as string | undefined;
  return text ? positiveInt(text, '--idle-ms') : 3000;
}

/** The options of a command that reads a topic until N records or MS without one (tail, dlq inspect). */
const READ_OPTIONS = { topic: { type: 'string' }, max: { type: 'string' }, 'idle-ms': { type: 'string' } } as const;

/** `--max N` and `--idle-ms MS` of a command that takes {@link READ_OPTIONS}. */
function readLimits(values: Values): { max: number | undefined; idleMs: number } {
  const max = values.max as string | undefined;
  return { max: max ? positiveInt(max, '--max') : undefined, idleMs: idleMs(values) };
}

function kafkaConfig() {
  return parseConfig(kafkaServiceEnv, process.env);
}

async function generate(values: Values): Promise<number> {
  const customers = positiveInt(values.customers as string | undefined, '--customers');
  const months = positiveInt(values.months as string | undefined, '--months');
  const seed = Number(need(values.seed as string | undefined, '--seed'));
  if (!Number.isInteger(seed)) throw new UsageError('--seed must be a whole number');
  const outPath = need(values.out as string | undefined, '--out');
  const start = values.start as string | undefined;
  const started = Date.now();
  const events = generatePopulation(
    { customers, months, seed, ...(start ? { start: time(start, '--start') } : {}) },
    (done) => process.stderr.write(`generate: ${done}/${customers} customers\n`),
  );
  const out = createWriteStream(outPath);
  for (const event of events) if (!out.write(`${formatLine(event)}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  const byTopic: Record<string, number> = {};
  for (const e of events) byTopic[e.topic] = (byTopic[e.topic] ?? 0) + 1;
  process.stderr.write(
    `generate: ${events.length} events for ${customers} customers over ${months} months in ${Date.now() - started} ms -> ${outPath}\n`,
  );
  for (const [topic, n] of Object.entries(byTopic)) process.stderr.write(`  ${topic.padEnd(34)} ${n}\n`);
  return 0;
}

async function replayCommand(values: Values): Promise<number> {
  const inPath = need(values.in as string | undefined, '--in');
  const outPath = need(values.out as string | undefined, '--out');
  const dlqPath = (values.dlq as string | undefined) ?? outPath.replace(/(\.jsonl?)?$/, '.dlq.jsonl');
  const shape = (values.shape as string | undefined) ?? 'engine';
  if (!SHAPES.includes(shape as Shape)) throw new UsageError(`--shape must be one of ${SHAPES.join(', ')}`);
  const until = values.until as string | undefined;
  const untilTime = until ? time(until, '--until') : undefined;
  const policy = loadPolicy(readJsonFile((values.policy as string | undefined) ?? DEFAULT_POLICY_FILE));
  const started = Date.now();
  const result = await replayToFiles(inPath, outPath, dlqPath, {
    policy,
    shape: shape as Shape,
    until: untilTime,
    onProgress: (lines, outputs) => process.stderr.write(`replay: ${lines} lines read, ${outputs} outputs\n`),
  });
  for (const dead of result.deadLetters.slice(0, 20))
    process.stderr.write(`replay: line ${dead.line}: ${dead.code}: ${dead.reason}\n`);
  if (result.deadLetters.length > 20)
    process.stderr.write(`replay: ... and ${result.deadLetters.length - 20} more bad lines\n`);
  process.stderr.write(
    `replay: ${result.events} events in, ${result.outputs} outputs out, ${result.deadLetters.length} bad lines (${dlqPath}) in ${Date.now() - started} ms, policy ${policy.version}\n`,
  );
  for (const [topic, n] of Object.entries(result.byTopic)) process.stderr.write(`  ${topic.padEnd(34)} ${n}\n`);
  return 0;
}

async function produce(values: Values): Promise<number> {
  const inPath = need(values.in as string | undefined, '--in');
  const result = await produceFile(kafkaConfig(), inPath, (n) => {
    if (n % 10_000 === 0) process.stderr.write(`produce: ${n} records\n`);
  });
  for (const r of result.rejected.slice(0, 20))
    process.stderr.write(`produce: line ${r.line} not produced: ${r.reason}\n`);
  process.stderr.write(`produce: ${result.produced} records produced, ${result.rejected.length} lines rejected\n`);
  return result.rejected.length > 0 ? 1 : 0;
}

async function tail(values: Values): Promise<number> {
  const topic = need(values.topic as string | undefined, '--topic');
  if (!isTopicName(topic)) throw new UsageError(`--topic ${topic} is not a topic of the contracts`);
  const options = readLimits(values);
  const count = await tailTopic(kafkaConfig(), topic, { ...options, out: process.stdout });
  process.stderr.write(`tail: ${count} records from ${topic}\n`);
  return 0;
}

async function dlqInspect(values: Values): Promise<number> {
  const topic = deadLetterTopic(values);
  const options = readLimits(values);
  const letters = await inspectDeadLetters(kafkaConfig(), topic, options);
  for (const letter of letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
  const byCode = new Map<string, number>();
  for (const l of letters) byCode.set(l.code, (byCode.get(l.code) ?? 0) + 1);
  process.stderr.write(`dlq: ${letters.length} dead letters in ${topic}\n`);
  for (const [code, n] of byCode) process.stderr.write(`  ${code.padEnd(28)} ${n}\n`);
  return 0;
}

async function dlqReplay(values: Values): Promise<number> {
  const topic = deadLetterTopic(values);
  const dryRun = values['dry-run'] as boolean | undefined;
  const report = await replayDeadLetters(
    kafkaConfig(),
    topic,
    {
      code: values.code as string | undefined,
      service: values.service as string | undefined,
      rekey: values.rekey as boolean | undefined,
      dryRun,
    },
    idleMs(values),
  );
  for (const l of report.replayed) {
    process.stderr.write(
      `dlq: ${dryRun ? 'would replay' : 'replayed'} ${l.sourceTopic}/${l.sourcePartition}/${l.sourceOffset} (${l.code})\n`,
    );
  }
  process.stderr.write(
    `dlq: ${report.replayed.length} ${dryRun ? 'would be ' : ''}replayed, ${report.skipped.length} skipped\n`,
  );
  return 0;
}

/** Every churnctl command, in the order the whole help lists them. */
export const COMMANDS: readonly Command[] = [
  {
    name: 'generate',
    usage: `  churnctl generate --customers N --months M --seed S --out FILE [--start ISO-DATE]
      A synthetic customer population in the offline form (one JSON line per event:
      profiles, 12+ months of invoices, surveys, cancellations, outcomes).
      The same options always give the same file.
`,
    options: {
      customers: { type: 'string' },
      months: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      start: { type: 'string' },
    },
    run: generate,
  },
  {
    name: 'replay',
    usage: `  churnctl replay --in FILE --out FILE [--policy FILE] [--until ISO-TIME] [--dlq FILE]
                 [--shape ${SHAPES.join('|')}]
      Runs the whole pipeline in-process over FILE in file order and writes every
      output event (values, decisions, tasks, alerts) in the offline form. The clock
      follows event time; --until advances it at the end so due follow-ups fire.
      Bad lines are reported with their line number and written to the dead-letter
      file (default: the --out path with .dlq.jsonl); the run continues. --shape
      runs the engine (default) or one topology per service; the outputs are the same.
`,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      policy: { type: 'string' },
      until: { type: 'string' },
      dlq: { type: 'string' },
      shape: { type: 'string' },
    },
    run: replayCommand,
  },
  {
    name: 'backtest',
    usage: BACKTEST_USAGE,
    options: BACKTEST_OPTIONS,
    run: (values) => backtestCommand(values as BacktestValues, usageError),
  },
  {
    name: 'experiment report',
    usage: EXPERIMENT_USAGE,
    options: EXPERIMENT_OPTIONS,
    run: (values) => experimentCommand(values as ExperimentValues, usageError),
  },
  {
    name: 'simulate',
    usage: SIMULATE_USAGE,
    options: SIMULATE_OPTIONS,
    run: (values) => simulateCommand(values as SimulateValues, usageError),
  },
  {
    name: 'produce',
    usage: `  churnctl produce --in FILE
      Puts offline-form events onto their Kafka topics (Avro via the registry),
      keyed by customerId. A line that cannot be produced (not JSON, no such topic,
      not a valid record) is reported with its line number and the others go on;
      the exit code is then 1.
`,
    options: { in: { type: 'string' } },
    kafka: true,
    run: produce,
  },
  {
    name: 'tail',
    usage: `  churnctl tail --topic TOPIC [--max N] [--idle-ms MS]
      Prints decoded records of TOPIC from the beginning as offline-form lines
      (read_committed) until N records or MS milliseconds without one (default 3000).
`,
    options: READ_OPTIONS,
    kafka: true,
    run: tail,
  },
  {
    name: 'dlq inspect',
    usage: `  churnctl dlq inspect --topic TOPIC.dlq [--max N] [--idle-ms MS]
      Lists the dead letters of a dead-letter topic, one JSON line each: where the
      record came from (topic, partition, offset), the error kind, code and message,
      the service, when and after how many attempts. Then a count by code. Stops after
      N dead letters or MS milliseconds without one (default 3000).
`,
    options: READ_OPTIONS,
    kafka: true,
    run: dlqInspect,
  },
  {
    name: 'dlq replay',
    usage: `  churnctl dlq replay --topic TOPIC.dlq [--code CODE] [--service NAME] [--rekey] [--dry-run]
                     [--idle-ms MS]
      Puts dead letters back on their source topic once the cause is fixed: original
      value and headers, under the original key or, with --rekey, the customerId the
      record carries. Remembers what it replayed (a consumer group per dead-letter
      topic), so a second run does not send the same dead letter again. Replays the
      dead letters there when it begins (one that fails again waits for the next run),
      until MS milliseconds pass without one (default 3000).
`,
    options: {
      topic: { type: 'string' },
      code: { type: 'string' },
      service: { type: 'string' },
      rekey: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'idle-ms': { type: 'string' },
    },
    kafka: true,
    run: dlqReplay,
  },
  {
    name: 'help',
    usage: `  churnctl help [COMMAND]
      Every command's usage, or COMMAND's (the same as churnctl COMMAND --help).
`,
    options: {},
    positionals: true,
    run: async (_values, words) => {
      process.stdout.write(words.length === 0 ? wholeHelp() : helpFor(words));
      return 0;
    },
  },
];

/** The commands a word names: the command itself, or the commands under it (`dlq`: `dlq inspect`, `dlq replay`). */
function commandsNamed(name: string): Command[] {
  const exact = COMMANDS.find((c) => c.name === name);
  return exact ? [exact] : COMMANDS.filter((c) => c.name.startsWith(`${name} `));
}

function environmentOf(commands: readonly Command[]): string {
  return commands.some((c) => c.kafka) ? `\nEnvironment:\n${environmentUsage(kafkaServiceEnv)}` : '';
}

/** The usage of some commands, with the environment they read. */
export function usageOf(commands: readonly Command[]): string {
  return `Usage:\n${commands.map((c) => c.usage).join('\n')}${environmentOf(commands)}`;
}

/** Every command's usage. */
export function wholeHelp(): string {
  const kafka = COMMANDS.filter((c) => c.kafka).map((c) => c.name);
  const required = Object.entries(kafkaServiceEnv)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name);
  return `churnctl: tools for the churn pipeline

Usage:
${COMMANDS.map((c) => c.usage).join('\n')}
Environment for ${kafka.slice(0, -1).join(', ')} and ${kafka.at(-1)}: ${required.join(' and ')} (required)
and the other Kafka and registry settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, ...); \`churnctl ${kafka[0]} --help\`
lists them all.
`;
}

/** `churnctl help WORDS...`: the usage of the command (or the commands under the word) they name. */
function helpFor(words: readonly string[]): string {
  const name = words.join(' ');
  const commands = commandsNamed(name);
  if (commands.length === 0) throw new UsageError(`unknown command ${name}`);
  return usageOf(commands);
}

const isHelp = (word: string | undefined) => word === '--help' || word === '-h';

/** Finds the command `argv` names: the command and the arguments after its name. */
function findCommand(argv: readonly string[]): { command: Command; rest: string[] } {
  const [first = '', second] = argv;
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first}`);
  const exact = COMMANDS.find((c) => c.name === first);
  if (exact) return { command: exact, rest: argv.slice(1) };
  const under = commandsNamed(first);
  if (under.length === 0) throw new UsageError(`unknown command ${first}`);
  const sub = under.find((c) => c.name === `${first} ${second}`);
  if (sub) return { command: sub, rest: argv.slice(2) };
  const subs = under.map((c) => c.name.slice(first.length + 1));
  const takes = `takes ${subs.slice(0, -1).join(', ')}${subs.length > 1 ? ' or ' : ''}${subs.at(-1)}`;
  throw new GroupUsageError(first, second === undefined ? takes : `${takes}, got ${second}`);
}

/** Runs churnctl with its arguments; resolves to its exit code. */
export async function churnctl(argv: readonly string[]): Promise<number> {
  let name = '';
  try {
    if (argv.length === 0 || isHelp(argv[0])) {
      process.stdout.write(argv.length > 1 ? helpFor(argv.slice(1)) : wholeHelp());
      return 0;
    }
    // `churnctl dlq --help`: the commands under the word.
    if (argv.length === 2 && isHelp(argv[1]) && !COMMANDS.some((c) => c.name === argv[0])) {
      const under = commandsNamed(argv[0] as string);
      if (under.length > 0) {
        process.stdout.write(usageOf(under));
        return 0;
      }
    }
    const { command, rest } = findCommand(argv);
    name = command.name;
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({
        args: rest,
        options: { ...command.options, help: { type: 'boolean', short: 'h' } },
        strict: true,
        allowPositionals: command.positionals ?? false,
      }) as { values: Values; positionals: string[] };
    } catch (err) {
      throw new UsageError(argumentProblem(err));
    }
    if (parsed.values.help === true) {
      process.stdout.write(usageOf([command]));
      return 0;
    }
    return await command.run(parsed.values, parsed.positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      const where = err instanceof GroupUsageError ? err.group : name;
      const prefix = where ? `churnctl ${where}` : 'churnctl';
      const see = where ? `churnctl ${where} --help` : 'churnctl help';
      process.stderr.write(`${prefix}: ${err.message} (see ${see})\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`churnctl: ${err.message}\n`);
      return EXIT_CONFIG;
    }
    process.stderr.write(`churnctl: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
