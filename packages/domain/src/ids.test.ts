import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deriveId, deriveIdAndEventId, hash53 } from './ids.ts';

const guid = z.guid();

describe('deterministic ids', () => {
  it('derives the same UUID-shaped id from the same cause and role, every time', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const id = deriveId(a, b);
        expect(guid.safeParse(id).success).toBe(true);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(deriveId(a, b)).toBe(id);
      }),
    );
  });

  it('derives different ids for different causes or roles, also where a naive concatenation would collide', () => {
    expect(deriveId('ab', 'c')).not.toBe(deriveId('a', 'bc'));
    expect(deriveId('x', 'decision')).not.toBe(deriveId('y', 'decision'));
    const ids = new Set<string>();
    for (let i = 0; i < 100_000; i++) ids.add(deriveId(`event-${i}`, 'task:RETENTION_CALL'));
    expect(ids.size).toBe(100_000);
  });

  it('gives an id and an event id that equal nothing else and stay the same across calls in any order', () => {
    const a = deriveIdAndEventId('cause-1', 'task:X');
    deriveIdAndEventId('cause-2', 'task:Y');
    expect(deriveIdAndEventId('cause-1', 'task:X')).toEqual(a);
    expect(a.id).toBe(deriveId('cause-1', 'task:X'));
    expect(a.eventId).not.toBe(a.id);
    expect(guid.safeParse(a.eventId).success).toBe(true);
    expect(a.eventId[14]).toBe('9');
  });

  it('hashes strings to exact integers that differ for different strings', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50_000; i++) {
      const h = hash53(`inv-${i}`);
      expect(Number.isSafeInteger(h)).toBe(true);
      seen.add(h);
    }
    expect(seen.size).toBe(50_000);
  });
});
