import { ChurnError } from '@churn/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoff, isFenced, isRetriable, isTooLarge, isTransient } from './errors.ts';

const kafkaError = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...extra });

describe('isRetriable', () => {
  it('retries a ChurnError marked retriable and an error saying retriable, nothing else', () => {
    expect(isRetriable(new ChurnError('CHURN_REGISTRY_UNAVAILABLE', 'away', { retriable: true }))).toBe(true);
    expect(isRetriable(new ChurnError('CHURN_UNKNOWN_CUSTOMER', 'who'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('x'), { retriable: true }))).toBe(true);
    expect(isRetriable(Object.assign(new TypeError('x'), { retriable: true }))).toBe(false);
    expect(isRetriable(new Error('x'))).toBe(false);
    expect(isRetriable(null)).toBe(false);
  });
});

describe('isTransient', () => {
  it('counts Kafka client errors as transient, except a fenced epoch', () => {
    expect(isTransient(kafkaError('KafkaJSConnectionError'))).toBe(true);
    expect(isTransient(kafkaError('KafkaJSProtocolError', { type: 'INVALID_PRODUCER_EPOCH' }))).toBe(false);
  });

  it('looks through a non-retriable wrapper at its cause', () => {
    const cause = kafkaError('KafkaJSConnectionError');
    expect(isTransient(kafkaError('KafkaJSNonRetriableError', { cause }))).toBe(true);
    expect(isTransient(kafkaError('KafkaJSNonRetriableError', { cause: new TypeError('bug') }))).toBe(false);
  });

  it('never counts a programmer error as transient', () => {
    expect(isTransient(Object.assign(new TypeError('x'), { retriable: true }))).toBe(false);
    expect(isTransient(new RangeError('x'))).toBe(false);
  });
});

describe('isTooLarge and isFenced', () => {
  it('find the broker error type, however deep the cause', () => {
    const tooLarge = { type: 'MESSAGE_TOO_LARGE' };
    expect(isTooLarge({ cause: { cause: tooLarge } })).toBe(true);
    expect(isTooLarge({ type: 'RECORD_LIST_TOO_LARGE' })).toBe(true);
    expect(isTooLarge(null)).toBe(false);
    expect(isTooLarge(new Error('x'))).toBe(false);
    expect(isFenced({ cause: { type: 'PRODUCER_FENCED' } })).toBe(true);
    expect(isFenced(kafkaError('KafkaJSProducerFencedError'))).toBe(true);
    expect(isFenced({ type: 'INVALID_PRODUCER_EPOCH' })).toBe(true);
    expect(isFenced(new Error('x'))).toBe(false);
  });
});

describe('backoff', () => {
  it('waits between half and all of an exponential bound capped at 10 s', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (attempt, r) => {
        const bound = Math.min(10_000, 200 * 2 ** attempt);
        const ms = backoff(attempt, () => r);
        expect(ms).toBeGreaterThanOrEqual(bound / 2);
        expect(ms).toBeLessThanOrEqual(bound);
      }),
    );
  });
});
