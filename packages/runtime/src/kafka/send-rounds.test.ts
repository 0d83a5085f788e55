import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { sendRounds } from './committer.ts';

const record = (key: string, bytes: number): Message => ({ key, value: Buffer.alloc(bytes, 1) });

describe('sendRounds', () => {
  it('sends a small transaction in one request', () => {
    const out = new Map([
      ['a', [record('k1', 100), record('k2', 100)]],
      ['b', [record('k3', 100)]],
    ]);
    const rounds = sendRounds(out);
    expect(rounds).toHaveLength(1);
    expect(rounds[0]?.map((t) => [t.topic, t.messages.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('splits a topic over 512 KiB into requests under it, keeping the order', () => {
    const messages = Array.from({ length: 1_500 }, (_, i) => record(`k${i}`, 1_000));
    const rounds = sendRounds(
      new Map([
        ['changelog', messages],
        ['small', [record('s', 10)]],
      ]),
    );
    expect(rounds.length).toBe(3);
    const sent = rounds.flatMap((r) => r.filter((t) => t.topic === 'changelog').flatMap((t) => t.messages));
    expect(sent.map((m) => m.key)).toEqual(messages.map((m) => m.key));
    for (const round of rounds) {
      for (const t of round) {
        const bytes = t.messages.reduce((n, m) => n + (m.value as Buffer).length, 0);
        expect(bytes).toBeLessThanOrEqual(512 * 1024);
      }
    }
    expect(rounds[0]?.some((t) => t.topic === 'small')).toBe(true);
  });

  it('lets one record larger than the bound go alone', () => {
    const rounds = sendRounds(new Map([['dlq', [record('a', 600_000), record('b', 600_000)]]]));
    expect(rounds.map((r) => r[0]?.messages.length)).toEqual([1, 1]);
  });
});
