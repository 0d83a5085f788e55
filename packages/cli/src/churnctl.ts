/**
 * churnctl: the command-line tool of the churn pipeline.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { isTopicName } from '@churn/contracts';
import { loadPolicy } from '@churn/domain';
import { ConfigError, DEFAULT_POLICY_FILE, kafkaServiceEnv, parseConfig, readJsonFile } from '@churn/runtime';
import { backtestCommand } from './backtest-command.ts';
import { inspectDeadLetters, replayDeadLetters } from './dlq.ts';
import { EXPERIMENT_USAGE, experimentCommand } from './experiment-command.ts';
import { generatePopulation } from './generate.ts';
import { produceFile, tailTopic } from './kafka-io.ts';
import { formatLine } from './offline.ts';
import { replayToFiles } from './replay.ts';
import { SIMULATE_USAGE, simulateCommand } from './simulate.ts';
import { SHAPES, type Shape } from './topologies.ts';

const HELP = `churnctl: tools for the churn pipeline

Usage:
  churnctl generate --customers N --months M --seed S --out FILE [--start ISO-DATE]
      A synthetic customer population in the offline form (one JSON line per event:
      profiles, 12+ months of invoices, surveys, cancellations, outcomes).
      The same options always give the same file.

  churnctl replay --in FILE --out FILE [--policy FILE] [--until ISO-TIME] [--dlq FILE]
                 [--shape engine|services]
      Runs the whole pipeline in-process over FILE in file order and writes every
      output event (values, decisions, tasks, alerts) in the offline form. The clock
      follows event time; --until advances it at the end so due follow-ups fire.
      Bad lines are reported with their line number and written to the dead-letter
      file (default: the --out path with .dlq.jsonl); the run continues. --shape
      runs the engine (default) or one topology per service; the outputs are the same.

  churnctl backtest --in FILE --policy A.json --policy B.json [--html FILE] [--json FILE]
      Replays FILE once under each policy and compares them: the decisions that
      differ, the value at stake per policy and cancellation reason, and each
      policy's assumed save rates against the outcomes in FILE. Prints a text
      report; --html writes a self-contained page with charts, --json the whole
      comparison.

${EXPERIMENT_USAGE}
${SIMULATE_USAGE}
  churnctl produce --in FILE
      Puts offline-form events onto their Kafka topics (Avro via the registry),
      keyed by customerId. Needs KAFKA_BROKERS and SCHEMA_REGISTRY_URL.

  churnctl tail --topic TOPIC [--max N] [--idle-ms MS]
      Prints decoded records of TOPIC from the beginning as offline-form lines
      (read_committed) until N records or MS milliseconds without one (default 3000).

  churnctl dlq inspect --topic TOPIC.dlq [--max N] [--idle-ms MS]
      Lists the dead letters of a dead-letter topic, one JSON line each: where the
      record came from (topic, partition, offset), the error kind, code and message,
      the service, when and after how many attempts. Then a count by code.

  churnctl dlq replay --topic TOPIC.dlq [--code CODE] [--service NAME] [--rekey] [--dry-run]
      Puts dead letters back on their source topic once the cause is fixed: original
      value and headers, under the original key or, with --rekey, the customerId the
      record carries. Remembers what it replayed (a consumer group per dead-letter
      topic), so a second run does not send the same dead letter again.

  churnctl help
      This text.

Environment for produce, tail and dlq: KAFKA_BROKERS, SCHEMA_REGISTRY_URL, and optionally
KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_*, SCHEMA_REGISTRY_USERNAME/PASSWORD.
`;

class UsageError extends Error {}

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

function kafkaConfig() {
  return parseConfig(kafkaServiceEnv, process.env);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...afterCommand] = argv;
  const sub = command === 'dlq' ? afterCommand[0] : undefined;
  const rest = command === 'dlq' ? afterCommand.slice(1) : afterCommand;
  if (command === 'backtest') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    return backtestCommand(rest, (message) => new UsageError(message));
  }
  if (command === 'experiment') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(HELP);
      return 0;
    }
    return experimentCommand(rest, (message) => new UsageError(message));
  }
  if (command === 'simulate') return simulateCommand(rest, (message) => new UsageError(message));
  const { values } = parseArgs({
    args: rest,
    options: {
      customers: { type: 'string' },
      months: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      out: { type: 'string' },
      in: { type: 'string' },
      policy: { type: 'string' },
      until: { type: 'string' },
      shape: { type: 'string' },
      dlq: { type: 'string' },
      topic: { type: 'string' },
      max: { type: 'string' },
      'idle-ms': { type: 'string' },
      code: { type: 'string' },
      service: { type: 'string' },
      rekey: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (!command || command === 'help' || command === '--help' || command === '-h' || values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  switch (command) {
    case 'generate': {
      const customers = positiveInt(values.customers, '--customers');
      const months = positiveInt(values.months, '--months');
      const seed = Number(need(values.seed, '--seed'));
      if (!Number.isInteger(seed)) throw new UsageError('--seed must be a whole number');
      const outPath = need(values.out, '--out');
      const started = Date.now();
      const events = generatePopulation(
        { customers, months, seed, ...(values.start ? { start: time(values.start, '--start') } : {}) },
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
    case 'replay': {
      const inPath = need(values.in, '--in');
      const outPath = need(values.out, '--out');
      const dlqPath = values.dlq ?? outPath.replace(/(\.jsonl?)?$/, '.dlq.jsonl');
      const policy = loadPolicy(readJsonFile(values.policy ?? DEFAULT_POLICY_FILE));
      const started = Date.now();
      const shape = values.shape ?? 'engine';
      if (!SHAPES.includes(shape as Shape)) throw new UsageError(`--shape must be one of ${SHAPES.join(', ')}`);
      const result = await replayToFiles(inPath, outPath, dlqPath, {
        policy,
        shape: shape as Shape,
        until: values.until ? time(values.until, '--until') : undefined,
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
    case 'produce': {
      const inPath = need(values.in, '--in');
      const result = await produceFile(kafkaConfig(), inPath, (n) => {
        if (n % 10_000 === 0) process.stderr.write(`produce: ${n} records\n`);
      });
      for (const r of result.rejected.slice(0, 20))
        process.stderr.write(`produce: line ${r.line} not produced: ${r.reason}\n`);
      process.stderr.write(`produce: ${result.produced} records produced, ${result.rejected.length} lines rejected\n`);
      return result.rejected.length > 0 ? 2 : 0;
    }
    case 'tail': {
      const topic = need(values.topic, '--topic');
      if (!isTopicName(topic)) throw new UsageError(`--topic ${topic} is not a topic of the contracts`);
      const count = await tailTopic(kafkaConfig(), topic, {
        max: values.max ? positiveInt(values.max, '--max') : undefined,
        idleMs: values['idle-ms'] ? positiveInt(values['idle-ms'], '--idle-ms') : 3000,
        out: process.stdout,
      });
      process.stderr.write(`tail: ${count} records from ${topic}\n`);
      return 0;
    }
    case 'dlq': {
      const topic = need(values.topic, '--topic');
      if (!topic.endsWith('.dlq'))
        throw new UsageError(`--topic must be a dead-letter topic (<topic>.dlq), got ${topic}`);
      const idleMs = values['idle-ms'] ? positiveInt(values['idle-ms'], '--idle-ms') : 3000;
      if (sub === 'inspect') {
        const letters = await inspectDeadLetters(kafkaConfig(), topic, {
          max: values.max ? positiveInt(values.max, '--max') : undefined,
          idleMs,
        });
        for (const letter of letters) process.stdout.write(`${JSON.stringify(letter)}\n`);
        const byCode = new Map<string, number>();
        for (const l of letters) byCode.set(l.code, (byCode.get(l.code) ?? 0) + 1);
        process.stderr.write(`dlq: ${letters.length} dead letters in ${topic}\n`);
        for (const [code, n] of byCode) process.stderr.write(`  ${code.padEnd(28)} ${n}\n`);
        return 0;
      }
      if (sub === 'replay') {
        const report = await replayDeadLetters(
          kafkaConfig(),
          topic,
          { code: values.code, service: values.service, rekey: values.rekey, dryRun: values['dry-run'] },
          idleMs,
        );
        for (const l of report.replayed) {
          process.stderr.write(
            `dlq: ${values['dry-run'] ? 'would replay' : 'replayed'} ${l.sourceTopic}/${l.sourcePartition}/${l.sourceOffset} (${l.code})\n`,
          );
        }
        process.stderr.write(
          `dlq: ${report.replayed.length} ${values['dry-run'] ? 'would be ' : ''}replayed, ${report.skipped.length} skipped\n`,
        );
        return 0;
      }
      throw new UsageError('dlq takes inspect or replay');
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`churnctl: ${(err as Error).message}\nRun \`churnctl help\` for usage.\n`);
      process.exit(64);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`churnctl: ${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`churnctl: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
