import type { Message, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PipelineMetrics } from '../metrics.ts';
import { AtLeastOnceCommitter, ExactlyOnceCommitter, offsetsAfter } from './committer.ts';
import { TransactionOutcomeUnknown } from './errors.ts';

type Call = [string, ...unknown[]];

/** A transactional producer that records what it is asked and fails where told. */
function fakeProducer(fail: { send?: unknown; commit?: unknown; abort?: unknown } = {}) {
  const calls: Call[] = [];
  const producer = {
    transaction: async () => ({
      sendBatch: async (batch: unknown) => {
        calls.push(['sendBatch', batch]);
        if (fail.send) throw fail.send;
      },
      sendOffsets: async (offsets: unknown) => {
        calls.push(['sendOffsets', offsets]);
      },
      commit: async () => {
        calls.push(['commit']);
        if (fail.commit) throw fail.commit;
      },
      abort: async () => {
        calls.push(['abort']);
        if (fail.abort) throw fail.abort;
      },
    }),
  } as unknown as Pick<Producer, 'transaction'>;
  return { producer, calls };
}

async function transactions(metrics: PipelineMetrics): Promise<Record<string, number>> {
  const metric = await metrics.transactions.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

const out = new Map<string, Message[]>([
  ['churn.decisions.v1', [{ key: 'c1', value: Buffer.from('d') }]],
  ['svc-state-changelog', [{ key: 'c1', value: Buffer.from('s'), partition: 2 }]],
]);
const offsets = offsetsAfter(2, new Map([['customer.cancellations.v1', 41n]]));

describe('offsetsAfter', () => {
  it('commits the offset after the last record processed of each topic', () => {
    expect(offsets).toEqual([{ topic: 'customer.cancellations.v1', partitions: [{ partition: 2, offset: '42' }] }]);
  });
});

describe('ExactlyOnceCommitter', () => {
  it('writes records and offsets in one transaction of the partition, and counts it committed', async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    const { producer, calls } = fakeProducer();
    await new ExactlyOnceCommitter('svc', 'svc', metrics).commit({ partition: 2, producer }, out, offsets);
    expect(calls.map((c) => c[0])).toEqual(['sendBatch', 'sendOffsets', 'commit']);
    expect(calls[1]?.[1]).toEqual({ consumerGroupId: 'svc', topics: offsets });
    expect(await transactions(metrics)).toEqual({ committed: 1 });
  });

  it('sends no offsets when there are none (a clock step)', async () => {
    const { producer, calls } = fakeProducer();
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    await new ExactlyOnceCommitter('svc', 'svc', metrics).commit({ partition: 0, producer }, out, []);
    expect(calls.map((c) => c[0])).toEqual(['sendBatch', 'commit']);
  });

  it('aborts a failed transaction and passes its error on', async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    const error = Object.assign(new Error('broker away'), { name: 'KafkaJSConnectionError' });
    const { producer, calls } = fakeProducer({ send: error });
    const committer = new ExactlyOnceCommitter('svc', 'svc', metrics);
    await expect(committer.commit({ partition: 0, producer }, out, offsets)).rejects.toBe(error);
    expect(calls.map((c) => c[0])).toEqual(['sendBatch', 'abort']);
    expect(await transactions(metrics)).toEqual({ aborted: 1 });
  });

  it('says the outcome is unknown when the abort fails too, unless the producer was fenced', async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    const committer = new ExactlyOnceCommitter('svc', 'svc', metrics);
    const away = fakeProducer({ commit: new Error('commit lost'), abort: new Error('abort lost') });
    await expect(committer.commit({ partition: 0, producer: away.producer }, out, offsets)).rejects.toBeInstanceOf(
      TransactionOutcomeUnknown,
    );
    const fenced = { type: 'PRODUCER_FENCED' };
    const taken = fakeProducer({ commit: fenced, abort: new Error('abort lost') });
    await expect(committer.commit({ partition: 0, producer: taken.producer }, out, offsets)).rejects.toBe(fenced);
  });

  it('refuses, retriably, a partition without a producer yet', async () => {
    const committer = new ExactlyOnceCommitter('svc', 'svc', new PipelineMetrics({ defaultMetrics: false }));
    await expect(committer.commit({ partition: 0, producer: null }, out, offsets)).rejects.toMatchObject({
      retriable: true,
    });
  });
});

describe('AtLeastOnceCommitter', () => {
  it('sends outputs, then the changelog, then commits the offsets', async () => {
    const calls: Call[] = [];
    const producer = {
      sendBatch: async (batch: { topicMessages: Array<{ topic: string }> }) => {
        calls.push(['sendBatch', batch.topicMessages.map((t) => t.topic)]);
      },
    } as unknown as Pick<Producer, 'sendBatch'>;
    const committer = new AtLeastOnceCommitter(producer, 'svc-state-changelog', async (o) => {
      calls.push(['commitOffsets', o]);
    });
    await committer.commit({ partition: 2, producer: null }, out, offsets);
    expect(calls).toEqual([
      ['sendBatch', ['churn.decisions.v1']],
      ['sendBatch', ['svc-state-changelog']],
      ['commitOffsets', [{ topic: 'customer.cancellations.v1', partition: 2, offset: '42' }]],
    ]);
  });

  it('commits no offsets before the outputs are acknowledged', async () => {
    const committed: unknown[] = [];
    const producer = {
      sendBatch: async () => {
        throw new Error('not acknowledged');
      },
    } as unknown as Pick<Producer, 'sendBatch'>;
    const committer = new AtLeastOnceCommitter(producer, 'svc-state-changelog', async (o) => {
      committed.push(o);
    });
    await expect(committer.commit({ partition: 2, producer: null }, out, offsets)).rejects.toThrow('not acknowledged');
    expect(committed).toEqual([]);
  });
});
