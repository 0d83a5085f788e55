import { ChurnError } from '@churn/contracts';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../logger.ts';
import { PipelineMetrics } from '../metrics.ts';
import { MAX_BUFFERED, RecordBuffer, RecordDecoder } from './record-buffer.ts';

const quiet = { warn: () => {} } as unknown as Logger;
const at = Date.UTC(2026, 2, 1);

function message(offset: number, key: string | null, value: unknown): KafkaMessage {
  return {
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(JSON.stringify(value)),
    timestamp: '0',
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

/** A serde that reads JSON, failing as told for the first calls. */
function serde(failures: unknown[] = []) {
  let calls = 0;
  return {
    calls: () => calls,
    decode: async (_topic: string, value: Buffer | null) => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return { value: JSON.parse(String(value)) };
    },
  };
}

function decoder(s = serde(), options: { maxRecordBytes?: number; internal?: string[] } = {}) {
  return new RecordDecoder({
    serde: s as never,
    topology: {
      internalTopics: (options.internal ?? []).map((topic) => ({ topic, record: 'x' as never, partitions: 1 })),
    },
    maxRecordBytes: options.maxRecordBytes ?? 1024,
    metrics: new PipelineMetrics({ defaultMetrics: false }),
    service: 'svc',
    log: quiet,
    stopping: () => false,
  });
}

const batch = (topic: string, messages: KafkaMessage[], last: number, high: number) => ({
  topic,
  messages,
  lastOffset: () => String(last),
  highWatermark: String(high),
});

describe('RecordDecoder', () => {
  it('decodes a record with its event time and size', async () => {
    const into = new RecordBuffer();
    const r = await decoder().decodeWithRetries(into, 't', 3n, message(3, 'c1', { customerId: 'c1', occurredAt: at }));
    expect(r).toMatchObject({ topic: 't', offset: 3n, time: at, error: null, input: { key: 'c1', topic: 't' } });
    expect(r.bytes).toBe(2 + JSON.stringify({ customerId: 'c1', occurredAt: at }).length);
  });

  it('keeps the error of a record it cannot take, for the dead-letter topic', async () => {
    const into = new RecordBuffer();
    const d = decoder(serde(), { maxRecordBytes: 10 });
    const big = await d.decodeWithRetries(into, 't', 0n, message(0, 'c1', { customerId: 'c1', occurredAt: at }));
    expect(big.input).toBeNull();
    expect(big.time).toBe(Number.NEGATIVE_INFINITY);
    expect((big.error as ChurnError).code).toBe('CHURN_RECORD_TOO_LARGE');
    const wrongKey = await decoder().decodeWithRetries(
      into,
      't',
      1n,
      message(1, 'c2', { customerId: 'c1', occurredAt: at }),
    );
    expect((wrongKey.error as ChurnError).code).toBe('CHURN_KEY_MISMATCH');
    const noKey = await decoder().decodeWithRetries(
      into,
      't',
      2n,
      message(2, null, { customerId: 'c1', occurredAt: at }),
    );
    expect((noKey.error as ChurnError).code).toBe('CHURN_KEY_MISMATCH');
  });

  it('lets internal topics be keyed otherwise', async () => {
    const r = await decoder(serde(), { internal: ['re-keyed'] }).decode(
      're-keyed',
      message(0, 'COMPETITOR', { customerId: 'c1', occurredAt: at }),
    );
    expect(r.key).toBe('COMPETITOR');
  });

  it('retries while the registry is away, and the buffer says so meanwhile', async () => {
    const into = new RecordBuffer();
    const away = new ChurnError('CHURN_REGISTRY_UNAVAILABLE', 'away', { retriable: true });
    const s = serde([away]);
    const pending = decoder(s).decodeWithRetries(into, 't', 0n, message(0, 'c1', { customerId: 'c1', occurredAt: at }));
    await new Promise((r) => setTimeout(r, 10));
    expect(into.decodeRetrying).toBe(1);
    const r = await pending;
    expect(r.error).toBeNull();
    expect(s.calls()).toBe(2);
    expect(into.decodeRetrying).toBe(0);
  });

  it('buffers a batch after what is already buffered, and moves the fetch position past its markers', async () => {
    const into = new RecordBuffer();
    into.startAt('t', 1n, 2n);
    const d = decoder();
    const v = (o: number) => message(o, 'c1', { customerId: 'c1', occurredAt: at + o });
    await d.bufferBatch(into, batch('t', [v(0), v(1), v(2)], 3, 6));
    expect(into.buffers.get('t')?.map((r) => r.offset)).toEqual([1n, 2n]);
    expect(into.fetchedNext.get('t')).toBe(4n);
    expect(into.highWater.get('t')).toBe(6n);
    expect(into.fullyFetched('t')).toBe(false);
    await d.bufferBatch(into, batch('t', [v(2), v(4)], 5, 6));
    expect(into.buffers.get('t')?.map((r) => r.offset)).toEqual([1n, 2n, 4n]);
    expect(into.fullyFetched('t')).toBe(true);
  });
});

describe('RecordBuffer', () => {
  it('is fully fetched only up to a known high watermark and with no batch being decoded', () => {
    const b = new RecordBuffer();
    expect(b.fullyFetched('t')).toBe(false);
    b.startAt('t', 5n, 5n);
    expect(b.fullyFetched('t')).toBe(true);
    b.decoding.set('t', 1);
    expect(b.fullyFetched('t')).toBe(false);
  });

  it('owes the records a topic held when the partition was assigned, and those being decoded', () => {
    const b = new RecordBuffer();
    b.startAt('t', 5n, 8n);
    expect(b.owes('t')).toBe(true);
    // Records that arrive after the assignment are only maybe there: they are not owed.
    b.advanceFetched('t', 8n, 12n);
    expect(b.fullyFetched('t')).toBe(false);
    expect(b.owes('t')).toBe(false);
    b.decoding.set('t', 1);
    expect(b.owes('t')).toBe(true);
  });

  it('never moves the fetch position back', () => {
    const b = new RecordBuffer();
    b.advanceFetched('t', 5n, 9n);
    b.advanceFetched('t', 3n, 10n);
    expect(b.fetchedNext.get('t')).toBe(5n);
    expect(b.highWater.get('t')).toBe(10n);
  });

  it('is caught up when every topic is fully fetched and nothing is buffered', () => {
    const b = new RecordBuffer();
    b.startAt('a', 0n, 0n);
    b.startAt('b', 0n, 0n);
    expect(b.caughtUp(['a', 'b'])).toBe(true);
    b.buffers.set('a', [{} as never]);
    expect(b.caughtUp(['a', 'b'])).toBe(false);
  });

  it('pauses a full topic once, and resumes it when a commit takes it under half', () => {
    const b = new RecordBuffer();
    b.buffers.set(
      't',
      Array.from({ length: MAX_BUFFERED }, () => ({}) as never),
    );
    expect(b.pauseIfFull('t')).toBe(true);
    expect(b.pauseIfFull('t')).toBe(false);
    expect(b.committed(new Map([['t', 10]]), new Map([['t', 41n]]))).toEqual([]);
    expect(b.nextOffset.get('t')).toBe(42n);
    expect(b.committed(new Map([['t', MAX_BUFFERED / 2]]), new Map([['t', 5_050n]]))).toEqual(['t']);
    expect(b.buffered('t')).toBe(MAX_BUFFERED / 2 - 10);
    expect(b.paused.size).toBe(0);
  });
});
