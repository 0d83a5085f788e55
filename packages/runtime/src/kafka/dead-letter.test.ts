import { ChurnError } from '@churn/contracts';
import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../logger.ts';
import { classify, DeadLetters, DLQ_HEADERS, deadLetterOf } from './dead-letter.ts';

const source = {
  topic: 'customer.cancellations.v1',
  partition: 1,
  offset: '17',
  key: Buffer.from('c1'),
  value: Buffer.from([0, 1, 2]),
  headers: { trace: 'abc' },
};

function fakeLogger() {
  const lines: Array<[unknown, string]> = [];
  const log = { warn: (fields: unknown, message: string) => lines.push([fields, message]) } as unknown as Logger;
  return { log, lines };
}

describe('classify', () => {
  it('tells decode, validation and processing failures apart', () => {
    expect(classify(new ChurnError('CHURN_AVRO_DECODE', 'x'))).toEqual({ kind: 'decode', code: 'CHURN_AVRO_DECODE' });
    expect(classify(new ChurnError('CHURN_KEY_MISMATCH', 'x'))).toEqual({
      kind: 'validation',
      code: 'CHURN_KEY_MISMATCH',
    });
    expect(classify(new TypeError('x'))).toEqual({ kind: 'processing', code: 'TypeError' });
    expect(classify('text')).toEqual({ kind: 'processing', code: 'UNKNOWN' });
  });
});

describe('deadLetterOf', () => {
  it('keeps the original bytes and headers and says why in headers', () => {
    const at = new Date(Date.UTC(2026, 2, 1));
    const dead = deadLetterOf(source, new ChurnError('CHURN_KEY_MISMATCH', 'no key'), 'svc', 2, at);
    expect(dead.topic).toBe('customer.cancellations.v1.dlq');
    expect(dead.message).toMatchObject({ key: source.key, value: source.value, partition: 1 });
    expect(dead.message.headers).toMatchObject({
      trace: 'abc',
      [DLQ_HEADERS.kind]: 'validation',
      [DLQ_HEADERS.code]: 'CHURN_KEY_MISMATCH',
      [DLQ_HEADERS.message]: 'no key',
      [DLQ_HEADERS.offset]: '17',
      [DLQ_HEADERS.service]: 'svc',
      [DLQ_HEADERS.failedAt]: at.toISOString(),
      [DLQ_HEADERS.attempts]: '2',
    });
  });
});

describe('DeadLetters', () => {
  it("puts the dead letter into the transaction, stamped with the runner's time, counted once it commits", () => {
    const { log, lines } = fakeLogger();
    const at = Date.UTC(2026, 2, 1, 12);
    const out: Array<[string, Message]> = [];
    const sink = { push: (topic: string, message: Message) => out.push([topic, message]), deadLetters: [] };
    new DeadLetters('svc', () => at, log).send(sink, source, new ChurnError('CHURN_AVRO_DECODE', 'bad bytes'), 1);
    expect(out).toHaveLength(1);
    expect(out[0]?.[0]).toBe('customer.cancellations.v1.dlq');
    expect(out[0]?.[1].headers?.[DLQ_HEADERS.failedAt]).toBe(new Date(at).toISOString());
    expect(sink.deadLetters).toEqual([{ topic: 'customer.cancellations.v1', code: 'CHURN_AVRO_DECODE' }]);
    expect(lines).toEqual([
      [
        {
          topic: source.topic,
          partition: 1,
          offset: '17',
          kind: 'decode',
          code: 'CHURN_AVRO_DECODE',
          attempts: 1,
          error: 'bad bytes',
        },
        'record sent to the dead-letter topic',
      ],
    ]);
  });
});
