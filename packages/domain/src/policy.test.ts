import { describe, expect, it } from 'vitest';
import { defaultPolicy } from './testing/policy.ts';

describe('policy', () => {
  it('loads', () => {
    expect(defaultPolicy.version).toBe('default-2026.11');
  });
});
