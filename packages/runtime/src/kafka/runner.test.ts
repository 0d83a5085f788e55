import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../logger.ts';
import { PipelineMetrics } from '../metrics.ts';
import type { Topology } from '../topology.ts';
import { KafkaRunner } from './runner.ts';

const quiet = { warn: () => {}, error: () => {}, info: () => {} } as unknown as Logger;
const topology: Topology<unknown> = {
  name: 'churn-decisions',
  inputs: ['customer.cancellations.v1'],
  outputs: ['churn.decisions.v1'],
  process: () => ({ state: undefined, emit: [] }),
  tick: (_key, state) => ({ state, emit: [] }),
};

function runner(overrides: Partial<Topology<unknown>> = {}) {
  return new KafkaRunner({
    topology: { ...topology, ...overrides },
    kafka: {} as Kafka,
    serde: {} as never,
    logger: quiet,
    metrics: new PipelineMetrics({ defaultMetrics: false }),
    instanceId: 'test',
  });
}

describe('KafkaRunner', () => {
  it('names its group, changelog and transactional ids after the topology and its state version', () => {
    expect(runner()).toMatchObject({ name: 'churn-decisions', groupId: 'churn-decisions' });
    expect(runner().changelog).toBe('churn-decisions-state-changelog');
    const v2 = runner({ stateVersion: 2 });
    expect(v2.groupId).toBe('churn-decisions-v2');
    expect(v2.changelog).toBe('churn-decisions-v2-state-changelog');
  });

  it('is alive but not ready before the group assigned it partitions, and holds nothing', async () => {
    const r = runner();
    expect(r.isAlive()).toBe(true);
    expect(r.isReady()).toBe(false);
    expect(r.assignedPartitions()).toEqual([]);
    expect(r.isCaughtUp()).toBe(true);
    expect(r.positions()).toEqual([]);
    expect(r.clocks()).toEqual(new Map());
    expect(r.stateSize()).toBe(0);
    expect(r.hasKey('c1')).toBe(false);
    expect(r.stateOf('c1')).toBeUndefined();
    expect(await r.advanceClock(Date.UTC(2026, 2, 1))).toBe(0);
    expect(await r.tickAll(Date.UTC(2026, 2, 1))).toBe(0);
  });

  it('stops without having started', async () => {
    const r = runner();
    await r.stop();
    expect(r.isReady()).toBe(false);
  });
});
