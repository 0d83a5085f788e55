/**
 * Test support for the runner's parts: what a partition task needs from its runner,
 * without a broker: a quiet log, a JSON serde, a fixed time source and a given committer.
 */
import type { Logger } from '../logger.ts';
import { PipelineMetrics } from '../metrics.ts';
import type { Topology } from '../topology.ts';
import { ClockStep } from './clock-step.ts';
import type { Committer } from './committer.ts';
import { DeadLetters } from './dead-letter.ts';
import { dueTimeOf } from './due-index.ts';
import { mergeRanks } from './event-time-merge.ts';
import type { TaskContext } from './partition-task.ts';

/** The time the fake runner says it is. */
export const TEST_MIDNIGHT = Date.UTC(2026, 2, 1);
export const quietLog = { warn: () => {}, error: () => {}, info: () => {} } as unknown as Logger;
export const jsonSerde = {
  encode: async (_topic: string, value: unknown) => Buffer.from(JSON.stringify(value)),
};

/** The context fields every part shares; each test adds how the runner fails, commits and fences. */
export function sharedTaskContext<S>(
  topology: Topology<S>,
  committer: Committer,
  commitIntervalMs = 0,
): Omit<TaskContext<S>, 'committed' | 'fenced' | 'fail' | 'refreshStateGauge'> {
  return {
    service: 'svc',
    topology,
    serde: jsonSerde,
    metrics: new PipelineMetrics({ defaultMetrics: false }),
    log: quietLog,
    maxAttempts: 3,
    mergeIdleMs: 2_000,
    commitIntervalMs,
    ranks: mergeRanks(topology.inputs, []),
    clockStep: new ClockStep(topology, jsonSerde),
    deadLetters: new DeadLetters('svc', () => TEST_MIDNIGHT, quietLog),
    committer: () => committer,
    now: () => TEST_MIDNIGHT,
    elapsed: () => performance.now(),
    dueOf: (key, state) => dueTimeOf(topology.dueAt, key, state),
    stopping: () => false,
    resume: () => {},
  };
}
