/**
 * An empty slate on the broker: every topic and consumer group but Kafka's own deleted,
 * then the contract topics and the inputs' dead-letter topics created afresh. Tests that
 * compare Kafka with a replay start from it, since stages that learn across customers
 * (the learning snapshot, the structural count) would otherwise count what earlier tests
 * left on a shared broker. No vitest here: the fault suite uses it too.
 */
import { deadLetterTopicOf, inputTopics, topicCatalogue } from '@churn/contracts';
import type { Admin } from 'kafkajs';

export async function emptyCluster(admin: Admin, partitions: number): Promise<void> {
  const { groups } = await admin.listGroups();
  if (groups.length > 0) await admin.deleteGroups(groups.map((g) => g.groupId)).catch(() => {});
  const topics = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
  for (let i = 0; i < 120; i++) {
    const left = (await admin.listTopics()).filter((t) => topics.includes(t));
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const compacted = new Set<string>(topicCatalogue.filter((t) => t.compacted).map((t) => t.topic));
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [
          ...topicCatalogue.map((t) => ({
            topic: t.topic as string,
            numPartitions: partitions,
            replicationFactor: 1,
            configEntries: compacted.has(t.topic) ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
          })),
          ...inputTopics.map((t) => ({ topic: deadLetterTopicOf(t), numPartitions: partitions, replicationFactor: 1 })),
        ],
      });
      return;
    } catch (err) {
      // A topic still being deleted cannot be created yet.
      if (attempt > 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
