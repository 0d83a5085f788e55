import type { KafkaMessage, Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { JSON_STATE_CODEC, type StateCodec, type Topology } from '../topology.ts';
import type { Committer, TopicOffsets } from './committer.ts';
import { DAY_MS } from './due-index.ts';
import { type FailureScope, PartitionTask, type TaskContext } from './partition-task.ts';
import type { BufferedRecord } from './record-buffer.ts';
import { CLOCK_KEY, StateStore } from './state-store.ts';
import { sharedTaskContext, TEST_MIDNIGHT } from './testing.ts';

const MIDNIGHT = TEST_MIDNIGHT;

/** Counts per key; emits on 'out' every third record; the clock step marks each midnight. */
type State = { n: number };
const counting: Topology<State> = {
  name: 'svc',
  inputs: ['a', 'b'],
  outputs: ['out', 'marks'],
  process: (record, state) => {
    const n = (state?.n ?? 0) + 1;
    if ((record.value as { fail?: boolean }).fail) throw new TypeError('cannot');
    return { state: { n }, emit: n % 3 === 0 ? [{ topic: 'out', key: record.key, value: { n } }] : [] };
  },
  onClock: (partition, _partitions, at) => [{ topic: 'marks', key: String(partition), value: { at }, partition }],
};

interface Commit {
  out: Map<string, Message[]>;
  offsets: TopicOffsets;
}

function harness(
  topology: Topology<State> = counting,
  options: { commitIntervalMs?: number; fail?: unknown; duringCommit?: () => void } = {},
) {
  const commits: Commit[] = [];
  const failures: Array<[unknown, FailureScope]> = [];
  let failNext = options.fail;
  const committer: Committer = {
    commit: async (_target, out, offsets) => {
      if (failNext !== undefined) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      commits.push({ out: new Map(out), offsets });
      options.duringCommit?.();
    },
  };
  const shared = sharedTaskContext(topology, committer, options.commitIntervalMs ?? 0);
  const metrics = shared.metrics;
  const context: TaskContext<State> = {
    ...shared,
    committed: () => {},
    fenced: async () => {},
    fail: (err, _partition, scope) => failures.push([err, scope]),
    refreshStateGauge: () => {},
  };
  const store = new StateStore<State>(1, JSON_STATE_CODEC as StateCodec<State>, 'svc-state-changelog', null);
  const task = new PartitionTask(1, store, context);
  task.active = true;
  for (const t of topology.inputs) task.records.startAt(t, 0n, 0n);
  return { task, commits, failures, metrics };
}

function buffer(
  task: PartitionTask<State>,
  topic: string,
  records: Array<{ key: string; time: number; fail?: boolean }>,
) {
  const list = task.records.buffers.get(topic) ?? [];
  task.records.buffers.set(topic, list);
  for (const r of records) {
    const offset = BigInt(list.length);
    const value = { occurredAt: r.time, ...(r.fail ? { fail: true } : {}) };
    const message = { offset: String(offset), key: Buffer.from(r.key), value: Buffer.from('x'), headers: {} };
    list.push({
      topic,
      offset,
      message: message as unknown as KafkaMessage,
      input: { topic, key: r.key, value },
      error: null,
      time: r.time,
      bytes: 2,
    } satisfies BufferedRecord);
    task.records.advanceFetched(topic, offset + 1n, offset + 1n);
  }
}

async function settle(task: PartitionTask<State>): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 5));
    await task.withLock(async () => {});
  }
}

describe('PartitionTask', () => {
  /**
   * A topology with a clock step of its own (stages without one never hold their outputs),
   * whose first commit sees `arriving` records of topic b come in while it is in flight.
   */
  function loadedAfterFirstCommit(commitIntervalMs: number, arriving: Array<{ key: string; time: number }>) {
    let arrivals = 0;
    let h: ReturnType<typeof harness> | null = null;
    const ticking: Topology<State> = { ...counting, tick: (_key, state) => ({ state, emit: [] }) };
    h = harness(ticking, {
      commitIntervalMs,
      duringCommit: () => {
        if (arrivals++ === 0 && h) buffer(h.task, 'b', arriving);
      },
    });
    buffer(
      h.task,
      'a',
      [1, 2, 3].map((t) => ({ key: 'k', time: MIDNIGHT + t })),
    );
    return h;
  }

  it('commits outputs at once, unless records kept arriving during the last commit: then on the commit interval', async () => {
    const arriving = Array.from({ length: 20 }, (_, i) => ({ key: `x${i % 2}`, time: MIDNIGHT + 10 + i }));
    const { task, commits } = loadedAfterFirstCommit(300, arriving);
    task.drain();
    await settle(task);
    // Not loaded at first: the output of the third record commits at once; 20 records
    // arrive meanwhile, outputs among them, and wait for the commit interval.
    expect(commits).toHaveLength(1);
    task.drain();
    await settle(task);
    expect(commits).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 350));
    await settle(task);
    expect(commits).toHaveLength(2);
    expect(commits[1]?.out.get('out')?.length).toBeGreaterThan(0);
    // That commit ended with nothing waiting: the next output commits at once again.
    buffer(
      task,
      'a',
      [4, 5, 6].map((t) => ({ key: 'k', time: MIDNIGHT + 100 + t })),
    );
    task.drain();
    await settle(task);
    expect(commits).toHaveLength(3);
  });

  it('never holds the transaction that passes a midnight, loaded or not', async () => {
    const arriving = Array.from({ length: 20 }, (_, i) => ({ key: `y${i}`, time: MIDNIGHT + DAY_MS + i }));
    const { task, commits } = loadedAfterFirstCommit(10_000, arriving);
    task.drain();
    await settle(task);
    // The records of the next day arrived while the first commit was in flight (loaded), and
    // pass its midnight (the clock step's marks go out): committed at once, not in 10 s.
    expect(commits).toHaveLength(2);
    expect(commits[1]?.out.get('marks')?.length).toBeGreaterThan(0);
  });

  it('processes the buffered records in event-time order and commits them with their offsets', async () => {
    const { task, commits } = harness();
    buffer(task, 'a', [
      { key: 'k', time: MIDNIGHT + 1 },
      { key: 'k', time: MIDNIGHT + 3 },
    ]);
    buffer(task, 'b', [{ key: 'k', time: MIDNIGHT + 2 }]);
    task.drain();
    await settle(task);
    expect(commits).toHaveLength(1);
    const [commit] = commits as [Commit];
    expect(commit.out.get('out')?.map((m) => String(m.value))).toEqual(['{"n":3}']);
    expect(commit.out.get('svc-state-changelog')?.map((m) => [m.key, String(m.value)])).toEqual([
      ['k', '{"n":3}'],
      [CLOCK_KEY, JSON.stringify({ at: MIDNIGHT })],
    ]);
    expect(commit.offsets).toEqual([
      { topic: 'a', partitions: [{ partition: 1, offset: '2' }] },
      { topic: 'b', partitions: [{ partition: 1, offset: '1' }] },
    ]);
    expect(task.store.states.get('k')).toEqual({ n: 3 });
    expect(task.records.nextOffset.get('a')).toBe(2n);
    expect(task.caughtUp()).toBe(true);
  });

  it('reports its lag after each commit, and withdraws it when released', async () => {
    const { task, metrics } = harness();
    buffer(task, 'a', [
      { key: 'k', time: MIDNIGHT + 1 },
      { key: 'k', time: MIDNIGHT + 2 },
    ]);
    task.records.advanceFetched('a', 2n, 7n);
    task.drain();
    await settle(task);
    const lag = async () =>
      (await metrics.consumerLag.get()).values.filter((v) => v.labels.partition === String(task.partition));
    expect((await lag()).find((v) => v.labels.topic === 'a')?.value).toBe(5);
    await task.release();
    expect(await lag()).toEqual([]);
  });

  it('sends a record whose processing fails to the dead-letter topic and goes on', async () => {
    const { task, commits, metrics } = harness();
    buffer(task, 'a', [
      { key: 'k', time: MIDNIGHT + 1, fail: true },
      { key: 'k', time: MIDNIGHT + 2 },
    ]);
    task.drain();
    await settle(task);
    const out = commits.flatMap((c) => [...c.out.keys()]);
    expect(out).toContain('a.dlq');
    expect(task.store.states.get('k')).toEqual({ n: 1 });
    const dead = await metrics.deadLetters.get();
    expect(dead.values.map((v) => [v.labels.reason, v.value])).toEqual([['TypeError', 1]]);
  });

  it('runs the clock step at each midnight the records pass, in the same transaction', async () => {
    const { task, commits } = harness();
    buffer(task, 'a', [
      { key: 'k', time: MIDNIGHT + 1 },
      { key: 'k', time: MIDNIGHT + 2 * DAY_MS + 1 },
    ]);
    task.drain();
    await settle(task);
    const marks = commits.flatMap((c) => c.out.get('marks') ?? []).map((m) => JSON.parse(String(m.value)).at);
    expect(marks).toEqual([MIDNIGHT, MIDNIGHT + DAY_MS, MIDNIGHT + 2 * DAY_MS]);
    expect(task.store.clock).toBe(MIDNIGHT + 2 * DAY_MS);
  });

  it('keeps nothing of a failed transaction, and fails the partition on an error that will not pass', async () => {
    const { task, commits, failures } = harness(counting, { fail: new TypeError('bug') });
    buffer(task, 'a', [{ key: 'k', time: MIDNIGHT + 1 }]);
    task.drain();
    await settle(task);
    expect(commits).toEqual([]);
    expect(task.open).toBeNull();
    expect(task.store.states.size).toBe(0);
    expect(failures.map(([, scope]) => scope)).toEqual(['partition']);
  });

  it('holds a transaction of state changes only until the commit interval, then commits it', async () => {
    // Without clock outputs, nothing in it is waited for downstream.
    const { task, commits } = harness({ ...counting, onClock: undefined }, { commitIntervalMs: 30 });
    buffer(task, 'a', [{ key: 'k', time: MIDNIGHT + 1 }]);
    task.drain();
    await settle(task);
    expect(task.open).not.toBeNull();
    await new Promise((r) => setTimeout(r, 60));
    await settle(task);
    expect(task.open).toBeNull();
    expect(commits).toHaveLength(1);
  });

  it('commits the open transaction before a clock step, which then runs in its own', async () => {
    const { task, commits } = harness(counting, { commitIntervalMs: 60_000 });
    buffer(task, 'a', [{ key: 'k', time: MIDNIGHT + 1 }]);
    task.drain();
    await settle(task);
    const written = await task.runClockStep(async (txn) => {
      txn.clock = (txn.clock as number) + DAY_MS;
    });
    expect(written).toBe(0);
    expect(commits).toHaveLength(2);
    expect(commits[1]?.offsets).toEqual([]);
    expect(task.store.clock).toBe(MIDNIGHT + DAY_MS);
  });

  it('says where its restored clock stands, once activated', async () => {
    const { task, commits } = harness();
    task.store.clock = MIDNIGHT;
    await task.announceClock();
    expect(commits.map((c) => [...c.out.keys()])).toEqual([['marks']]);
  });
});
