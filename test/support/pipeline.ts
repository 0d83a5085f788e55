/**
 * Runs services in the test process against the real broker and registry, the way
 * `npm start` with KAFKA_BROKERS runs them: each with its own consumer group, metrics
 * on a free port, no signal handlers. Stopped by the test that started them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replay } from '@churn/cli';
import { loadPolicy, mergeDocuments, type Policy } from '@churn/domain';
import {
  DEFAULT_POLICY_FILE,
  kafkaServiceEnv,
  type Logger,
  type OutputRecord,
  parseConfig,
  type RunningService,
  readJsonFile,
  startService,
  type Topology,
} from '@churn/runtime';
import { expect, inject } from 'vitest';

export function testPolicy(): Policy {
  return loadPolicy(readJsonFile(DEFAULT_POLICY_FILE));
}

/**
 * The default policy with learning off: decisions from the priors alone, for tests that
 * compare one decision with an in-process run and do not start from an empty cluster
 * (what earlier tests taught the learning stage would count on Kafka).
 */
export function priorsOnlyPolicy(): Policy {
  return loadPolicy(mergeDocuments(readJsonFile(DEFAULT_POLICY_FILE), { learning: { enabled: false } }));
}

export async function startTestService(
  name: string,
  topologies: readonly Topology<unknown>[],
  env: Record<string, string> = {},
  logger?: Logger,
  clock?: () => number,
): Promise<RunningService> {
  const config = parseConfig(kafkaServiceEnv, {
    KAFKA_BROKERS: inject('kafkaBrokers'),
    SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    TICK_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
    ...env,
  });
  return startService({
    name,
    topologies,
    config,
    handleSignals: false,
    ...(logger ? { logger } : {}),
    ...(clock ? { clock } : {}),
  });
}

/**
 * The environment of a service run as its own process (`node --conditions=source main.ts`)
 * against the test broker and registry, with metrics on a free local port; `env` adds to
 * it or overrides it. Nothing else of the test's environment reaches the process.
 */
export function serviceProcessEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    KAFKA_BROKERS: inject('kafkaBrokers'),
    SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl'),
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    ...env,
  };
}

/** Polls `probe` until it returns true, or fails with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until every runner of the service is ready (state restored, consuming). */
export function ready(service: RunningService, timeoutMs = 60_000): Promise<void> {
  return eventually(
    `${service.runners.map((r) => r.name).join(', ')} to be ready`,
    () => service.runners.every((r) => r.isReady()),
    timeoutMs,
  );
}

/** Writes events as an offline file (one JSON line each) in a new temporary folder; returns its path. */
export function writeEvents(events: readonly unknown[], name: string): string {
  const file = join(mkdtempSync(join(tmpdir(), `churn-${name}-`)), 'input.jsonl');
  writeFileSync(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  return file;
}

/** Every output of the in-process replay of a file (`churnctl replay`), in order; the file has no bad line. */
export async function replayOutputs(file: string, policy: Policy): Promise<OutputRecord[]> {
  const outputs: OutputRecord[] = [];
  const result = await replay(
    file,
    { policy },
    (r) => void outputs.push(r),
    () => {},
  );
  expect(result.deadLetters).toEqual([]);
  return outputs;
}
