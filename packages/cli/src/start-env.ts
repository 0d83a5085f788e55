/**
 * What `npm start` reads from the environment in each of its modes, and its `--help`.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MainHelp, policyServiceEnv } from '@churn/runtime';
import { z } from 'zod';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLE = join(repoRoot, 'samples/sample.jsonl');

/** Without KAFKA_BROKERS: the one-process run over a file. */
export const offlineEnv = {
  POLICY_FILE: policyServiceEnv.POLICY_FILE,
  /** Input file for the one-process run. */
  CHURN_INPUT: z.string().default(SAMPLE),
  /** Folder for this run's outputs; a new folder under out/ by default. */
  CHURN_OUTPUT_DIR: z.string().optional(),
  /** Advance the clock to this ISO time at the end, so that due follow-ups fire. */
  CHURN_UNTIL: z.iso.datetime({ offset: true }).optional(),
} as const;

/** With KAFKA_BROKERS: every service in this process against Kafka, with what each service reads. */
export const onKafkaEnv = policyServiceEnv;

export const START_HELP: MainHelp = {
  command: 'npm start --',
  about:
    'runs the whole churn pipeline in this one process. Without KAFKA_BROKERS it reads a file of events in the offline form (the bundled sample unless CHURN_INPUT names another), shows progress, prints a summary and writes every output event as JSON lines, one file per topic, under a new folder in out/ (or CHURN_OUTPUT_DIR). With KAFKA_BROKERS set it runs every service against Kafka, as the engine service does.',
  environment: {
    'Environment without KAFKA_BROKERS': offlineEnv,
    'Environment with KAFKA_BROKERS': onKafkaEnv,
  },
};
