import { deadLetterTopicOf, topicCatalogue } from '@churn/contracts';
import type { Admin, ITopicConfig } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  compacted: boolean;
}

/** Every topic a topology touches: its inputs and their dead-letter topics, its outputs and its changelog. */
export function topicsOf(inputs: readonly string[], outputs: readonly string[], changelog?: string): TopicSpec[] {
  const compacted = new Set<string>(topicCatalogue.filter((t) => t.compacted).map((t) => t.topic));
  const specs = new Map<string, TopicSpec>();
  for (const t of [...inputs, ...outputs]) specs.set(t, { topic: t, compacted: compacted.has(t) });
  for (const t of inputs) specs.set(deadLetterTopicOf(t), { topic: deadLetterTopicOf(t), compacted: false });
  if (changelog) specs.set(changelog, { topic: changelog, compacted: true });
  return [...specs.values()];
}

/**
 * Creates the topics that do not exist yet. Inputs must be co-partitioned (the same
 * partition count), so every topic is created with the same count.
 */
export async function ensureTopics(
  admin: Admin,
  specs: readonly TopicSpec[],
  partitions: number,
  replicationFactor: number,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length === 0) return [];
  const topics: ITopicConfig[] = missing.map((s) => ({
    topic: s.topic,
    numPartitions: partitions,
    replicationFactor,
    configEntries: s.compacted
      ? [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'min.compaction.lag.ms', value: '0' },
        ]
      : [],
  }));
  try {
    await admin.createTopics({ topics, waitForLeaders: true });
  } catch (err) {
    // Another instance may have created them at the same moment.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  return missing.map((s) => s.topic);
}
