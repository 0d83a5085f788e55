/**
 * kafkajs 2.2.4 drops aborted transactional records from a fetch only when the broker
 * lists the aborted transactions in first-offset order, one per record. With several
 * transactional producers on a partition (every service writes dead letters to the same
 * topics) they overlap and records of aborted transactions reached read_committed
 * consumers. `patches/kafkajs+2.2.4.patch` (applied on install) sorts them as the Java
 * consumer does; this test fails without it.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages.js') as (input: {
  messages: Message[];
  abortedTransactions: Array<{ producerId: string; firstOffset: string }>;
}) => Message[];

interface Message {
  offset: string;
  key: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean };
}

const record = (offset: number, producerId: string): Message => ({
  offset: String(offset),
  key: Buffer.from('k'),
  batchContext: { producerId, inTransaction: true },
});
const abortMarker = (offset: number, producerId: string): Message => ({
  offset: String(offset),
  key: Buffer.from([0, 0, 0, 0]),
  batchContext: { producerId, inTransaction: true },
});

describe('read_committed filtering of aborted transactions (patched kafkajs)', () => {
  it('drops the records of overlapping aborted transactions of two producers, listed in abort order', () => {
    // Producer 7 begins at 10, producer 8 at 11; 8 aborts first, so the broker lists it first.
    const messages = [
      record(10, '7'),
      record(11, '8'),
      record(12, '7'),
      abortMarker(13, '8'),
      record(14, '9'),
      abortMarker(15, '7'),
      record(16, '7'),
    ];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [
        { producerId: '8', firstOffset: '11' },
        { producerId: '7', firstOffset: '10' },
      ],
    });
    expect(kept.filter((m) => m.key?.length !== 4).map((m) => m.offset)).toEqual(['14', '16']);
  });

  it('keeps every record when nothing was aborted', () => {
    const messages = [record(1, '7'), record(2, '8')];
    expect(filterAbortedMessages({ messages, abortedTransactions: [] })).toEqual(messages);
  });
});
