import { ChurnError } from '@churn/contracts';
import type { Admin, ITopicConfig } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../logger.ts';
import { prepareTopologyTopics } from './topics.ts';

/** An admin client over an in-memory cluster: topic → partition count. */
function fakeAdmin(existing: Record<string, number>) {
  const topics = new Map(Object.entries(existing));
  const created: ITopicConfig[] = [];
  const admin = {
    listTopics: async () => [...topics.keys()],
    fetchTopicMetadata: async ({ topics: wanted }: { topics: string[] }) => ({
      topics: wanted.map((name) => ({
        name,
        partitions: Array.from({ length: topics.get(name) ?? 0 }, (_, i) => ({ partitionId: i, leader: 1 })),
      })),
    }),
    createTopics: async ({ topics: configs }: { topics: ITopicConfig[] }) => {
      for (const t of configs) {
        topics.set(t.topic, t.numPartitions as number);
        created.push(t);
      }
      return true;
    },
  } as unknown as Admin;
  return { admin, topics, created };
}

const lines: unknown[] = [];
const log = { info: (fields: unknown) => lines.push(fields) } as unknown as Logger;
const topology = {
  name: 'svc',
  inputs: ['customer.profiles.v1', 'billing.invoices.v1'],
  outputs: ['churn.decisions.v1'],
};

describe('prepareTopologyTopics', () => {
  it('creates what is missing with the count of the inputs that exist, the compacted changelog included', async () => {
    const { admin, topics, created } = fakeAdmin({ 'customer.profiles.v1': 6 });
    const n = await prepareTopologyTopics(admin, topology, 'svc-state-changelog', {
      partitions: 3,
      replicationFactor: 1,
      log,
    });
    expect(n).toBe(6);
    expect(topics.get('billing.invoices.v1')).toBe(6);
    expect(topics.get('svc-state-changelog')).toBe(6);
    expect(topics.get('billing.invoices.v1.dlq')).toBe(6);
    expect(created.find((t) => t.topic === 'svc-state-changelog')?.configEntries).toContainEqual({
      name: 'cleanup.policy',
      value: 'compact',
    });
  });

  it('uses the configured count on an empty cluster', async () => {
    const { admin, topics } = fakeAdmin({});
    expect(await prepareTopologyTopics(admin, topology, 'cl', { partitions: 3, replicationFactor: 1, log })).toBe(3);
    expect(topics.get('churn.decisions.v1')).toBe(3);
  });

  it('refuses inputs that are not co-partitioned', async () => {
    const { admin } = fakeAdmin({ 'customer.profiles.v1': 6, 'billing.invoices.v1': 3 });
    await expect(
      prepareTopologyTopics(admin, topology, 'cl', { partitions: 3, replicationFactor: 1, log }),
    ).rejects.toSatisfy((err) => err instanceof ChurnError && err.code === 'CHURN_TOPICS_NOT_COPARTITIONED');
  });

  it('gives a co-partitioned internal topic the customer-scoped count, and a fixed one its own', async () => {
    const { admin, topics } = fakeAdmin({ 'customer.profiles.v1': 4 });
    await prepareTopologyTopics(
      admin,
      {
        ...topology,
        outputs: ['by-reason', 'fixed'],
        internalTopics: [
          { topic: 'by-reason', record: 'ChurnDecision' as never, partitions: 'co-partitioned' },
          { topic: 'fixed', record: 'ChurnDecision' as never, partitions: 1 },
        ],
      },
      'cl',
      { partitions: 3, replicationFactor: 1, log },
    );
    expect(topics.get('by-reason')).toBe(4);
    expect(topics.get('fixed')).toBe(1);
  });
});
