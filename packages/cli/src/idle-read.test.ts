import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { untilIdle } from './kafka-io.ts';

/** A consumer that only emits GROUP_JOIN when told to. */
function fakeConsumer() {
  const listeners = new Set<() => void>();
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join' },
    on: (_event: string, listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as Consumer;
  const join = () => {
    for (const listener of listeners) listener();
  };
  return { consumer, join, listeners };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('untilIdle', () => {
  it('counts idle time from the group join, not from the start', async () => {
    const { consumer, join, listeners } = fakeConsumer();
    const read = untilIdle(consumer, 1_000, 10_000);
    let ended = false;
    void read.finished.then(() => {
      ended = true;
    });
    await sleep(1_500); // a slow join: longer than the idle time
    expect(ended).toBe(false);
    join();
    await sleep(600);
    expect(ended).toBe(false);
    read.touch(); // a record: the idle time starts again
    await sleep(600);
    expect(ended).toBe(false);
    await read.finished;
    expect(listeners.size).toBe(0);
  });

  it('ends at once when told to', async () => {
    const { consumer, join } = fakeConsumer();
    const read = untilIdle(consumer, 60_000, 60_000);
    join();
    read.done();
    await expect(read.finished).resolves.toBeUndefined();
  });

  it('fails when the consumer never joins its group', async () => {
    const { consumer } = fakeConsumer();
    await expect(untilIdle(consumer, 50, 200).finished).rejects.toThrow(/did not join its group/);
  });
});
