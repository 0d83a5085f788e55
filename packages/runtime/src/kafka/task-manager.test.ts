import type { Admin, Kafka, Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { JSON_STATE_CODEC, type StateCodec, type Topology } from '../topology.ts';
import type { Committer } from './committer.ts';
import { DAY_MS } from './due-index.ts';
import type { FailureScope } from './partition-task.ts';
import { TaskManager } from './task-manager.ts';
import { sharedTaskContext, TEST_MIDNIGHT } from './testing.ts';

const MIDNIGHT = TEST_MIDNIGHT;

type State = { n: number };
const topology: Topology<State> = {
  name: 'svc',
  inputs: ['a'],
  outputs: ['marks'],
  process: (_record, state) => ({ state: { n: (state?.n ?? 0) + 1 }, emit: [] }),
  onClock: (partition, _partitions, at) => [{ topic: 'marks', key: String(partition), value: { at }, partition }],
};

/** A broker of two partitions with committed offset 5 on partition 0, 9 records each, an empty changelog. */
function fakeKafka() {
  const events: string[] = [];
  const kafka = {
    producer: (config: { transactionalId: string }) => ({
      connect: async () => events.push(`connect ${config.transactionalId}`),
      transaction: async () => ({ abort: async () => events.push(`fence ${config.transactionalId}`) }),
      disconnect: async () => events.push(`disconnect ${config.transactionalId}`),
    }),
  } as unknown as Kafka;
  const admin = {
    fetchOffsets: async () => [
      {
        topic: 'a',
        partitions: [
          { partition: 0, offset: '5' },
          { partition: 1, offset: '-1' },
        ],
      },
    ],
    fetchTopicOffsets: async (topic: string) =>
      [0, 1].map((partition) =>
        topic === 'a'
          ? { partition, high: '9', low: '0', offset: '9' }
          : { partition, high: '0', low: '0', offset: '0' },
      ),
    deleteGroups: async () => [],
  } as unknown as Admin;
  return { kafka, admin, events };
}

function manager(options: { commit?: Committer['commit']; sessionTimeoutMs?: number } = {}) {
  const { kafka, admin, events } = fakeKafka();
  const commits: Array<Map<string, Message[]>> = [];
  const failures: Array<[unknown, number | null, FailureScope]> = [];
  const committer: Committer = {
    commit:
      options.commit ??
      (async (_target, out) => {
        commits.push(new Map(out));
      }),
  };
  const tasks = new TaskManager<State>({
    ...sharedTaskContext(topology, committer),
    fail: (err, partition, scope) => failures.push([err, partition, scope]),
    kafka,
    admin: () => admin,
    groupId: 'svc',
    changelog: 'svc-state-changelog',
    instanceId: 'test',
    exactlyOnce: true,
    codec: JSON_STATE_CODEC as StateCodec<State>,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000,
  });
  return { tasks, events, commits, failures };
}

async function activated(tasks: TaskManager<State>): Promise<void> {
  for (const task of tasks.tasks.values()) await task.activation;
  for (const task of tasks.tasks.values()) await task.withLock(async () => {});
}

describe('TaskManager', () => {
  it('fences the previous owner of each assigned partition, then reads where each stands', async () => {
    const { tasks, events } = manager();
    tasks.onAssignment({ a: [1, 0] });
    expect(tasks.assignedOnce).toBe(true);
    expect([...tasks.tasks.keys()]).toEqual([0, 1]);
    expect([...tasks.tasks.values()].some((t) => t.active)).toBe(false);
    await activated(tasks);
    expect(events).toEqual(['connect svc-0', 'fence svc-0', 'connect svc-1', 'fence svc-1']);
    const [p0, p1] = [tasks.tasks.get(0), tasks.tasks.get(1)];
    expect(p0?.active && p1?.active).toBe(true);
    expect(p0?.records.nextOffset.get('a')).toBe(5n);
    expect(p1?.records.nextOffset.get('a')).toBe(0n);
    expect(p1?.records.highWater.get('a')).toBe(9n);
    expect(p1?.caughtUp()).toBe(false);
  });

  it('drops a revoked partition and its producer, keeping the others', async () => {
    const { tasks, events } = manager();
    tasks.onAssignment({ a: [0, 1] });
    await activated(tasks);
    const revoked = tasks.tasks.get(0);
    tasks.onAssignment({ a: [1] });
    expect(revoked?.revoked).toBe(true);
    await revoked?.withLock(async () => {});
    expect([...tasks.tasks.keys()]).toEqual([1]);
    expect(events).toContain('disconnect svc-0');
    expect(events).not.toContain('disconnect svc-1');
  });

  it('moves the clocks of idle partitions on to the furthest one', async () => {
    const { tasks, commits } = manager();
    tasks.onAssignment({ a: [0, 1] });
    await activated(tasks);
    for (const task of tasks.tasks.values()) task.records.startAt('a', 9n, 9n);
    const furthest = tasks.tasks.get(0);
    if (furthest) furthest.store.clock = MIDNIGHT + 2 * DAY_MS;
    tasks.followFurthest();
    await activated(tasks);
    expect(tasks.tasks.get(1)?.store.clock).toBe(MIDNIGHT + 2 * DAY_MS);
    expect(
      commits
        .at(-1)
        ?.get('marks')
        ?.map((m) => m.partition),
    ).toEqual([1]);
  });

  it('drops a partition another instance fenced, and fails the process if the group still gives it here', async () => {
    let fenced = false;
    const { tasks, failures } = manager({
      sessionTimeoutMs: 5,
      commit: async () => {
        if (fenced) throw Object.assign(new Error('fenced'), { type: 'PRODUCER_FENCED' });
      },
    });
    tasks.onAssignment({ a: [0] });
    await activated(tasks);
    const task = tasks.tasks.get(0);
    fenced = true;
    task?.records.startAt('a', 5n, 5n);
    const advance = task?.runClockStep(async (txn) => {
      txn.clock = MIDNIGHT;
    });
    expect(await advance).toBe(0);
    // A fenced clock step is only skipped; the drain loop is what drops the partition.
    expect(tasks.tasks.has(0)).toBe(true);
    task?.records.buffers.set('a', []);
    if (task) task.open = task.newTransaction();
    task?.drain();
    await new Promise((r) => setTimeout(r, 50));
    expect(tasks.tasks.has(0)).toBe(false);
    expect(failures.map(([, partition, scope]) => [partition, scope])).toEqual([[0, 'process']]);
  });
});
