/**
 * `npm start`: with KAFKA_BROKERS set, runs every service in this one process against
 * Kafka (for small deployments). Without it, runs the whole pipeline in-process over the
 * bundled sample data, shows progress, prints a summary and writes every output event
 * as JSON lines under a folder it names.
 */

import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadPolicy } from '@churn/domain';
import { loadConfig, readJsonFile, runMain, startService } from '@churn/runtime';
import { formatLine } from './offline.ts';
import { replay } from './replay.ts';
import { offlineEnv, onKafkaEnv, repoRoot, START_HELP } from './start-env.ts';
import { RunSummary } from './summary.ts';
import { allTopologies } from './topologies.ts';

async function runOffline(): Promise<void> {
  const config = loadConfig(offlineEnv, process.env, 'churn-pipeline');
  const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = resolve(config.CHURN_OUTPUT_DIR ?? join(repoRoot, 'out', `run-${stamp}`));
  mkdirSync(outDir, { recursive: true });
  const streams = new Map<string, WriteStream>();
  const summary = new RunSummary();
  const shown = relative(process.cwd(), config.CHURN_INPUT) || config.CHURN_INPUT;
  process.stdout.write(
    `churn-pipeline: no KAFKA_BROKERS set, so running every service in this process over ${shown}\n`,
  );
  process.stdout.write(`policy ${policy.version}; outputs go to ${outDir}\n\n`);
  const started = Date.now();
  const result = await replay(
    config.CHURN_INPUT,
    {
      policy,
      until: config.CHURN_UNTIL ? Date.parse(config.CHURN_UNTIL) : undefined,
      progressEvery: 2_000,
      onProgress: (lines, outputs) => process.stdout.write(`  ${lines} events read, ${outputs} outputs\n`),
    },
    async (record) => {
      summary.add(record);
      let stream = streams.get(record.topic);
      if (!stream) {
        stream = createWriteStream(join(outDir, `${record.topic}.jsonl`));
        streams.set(record.topic, stream);
      }
      if (!stream.write(`${formatLine(record)}\n`)) await once(stream, 'drain');
    },
    async (line, dead) => {
      let stream = streams.get('dead-letters');
      if (!stream) {
        stream = createWriteStream(join(outDir, 'dead-letters.jsonl'));
        streams.set('dead-letters', stream);
      }
      stream.write(`${JSON.stringify({ ...dead, original: line })}\n`);
    },
  );
  for (const stream of streams.values()) stream.end();
  await Promise.all([...streams.values()].map((s) => once(s, 'finish')));
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(
    `\n${result.events} events in, ${result.outputs} outputs out, ${result.deadLetters.length} bad lines, in ${seconds.toFixed(1)} s\n\n`,
  );
  process.stdout.write(`${summary.render()}\n\n`);
  process.stdout.write(`Output events (JSON lines, one file per topic): ${outDir}\n`);
}

async function runOnKafka(): Promise<void> {
  const config = loadConfig(onKafkaEnv, process.env, 'churn-pipeline');
  const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
  await startService({ name: 'churn-pipeline', topologies: allTopologies(policy), config });
}

runMain('churn-pipeline', () => (process.env.KAFKA_BROKERS ? runOnKafka() : runOffline()), START_HELP);
