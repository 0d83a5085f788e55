import { ChurnError, deadLetterTopicOf, topicCatalogue } from '@churn/contracts';
import type { Admin, ITopicConfig } from 'kafkajs';
import type { Logger } from '../logger.ts';
import type { Topology } from '../topology.ts';

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
 * What is wrong with a topology's partition counts, or null when nothing is: every input
 * must have the same count (a customer's records of every input land in the same
 * partition number only then), and the changelog, whose partition p holds the state of
 * input partition p, must have that count too. Topics missing from `counts` are not
 * checked.
 */
export function coPartitioningProblem(
  counts: ReadonlyMap<string, number>,
  inputs: readonly string[],
  changelog: string,
): string | null {
  const listed = (topics: readonly string[]) =>
    topics.map((t) => `${t} has ${counts.get(t)} partition${counts.get(t) === 1 ? '' : 's'}`).join(', ');
  const present = inputs.filter((t) => counts.has(t));
  const distinct = new Set(present.map((t) => counts.get(t)));
  if (distinct.size > 1) {
    return `input topics must have the same partition count (co-partitioned by customerId), but ${listed(present)}`;
  }
  const n = counts.get(present[0] ?? '');
  const stateCount = counts.get(changelog);
  if (n !== undefined && stateCount !== undefined && stateCount !== n) {
    return (
      `the changelog must have as many partitions as the inputs, but ${listed([changelog])} and ${listed(present)}; ` +
      `a changelog with another count holds state by other partitions: delete it and the consumer group to rebuild the state`
    );
  }
  return null;
}

/** Partition counts of the topics that exist, by topic. */
export async function partitionCounts(admin: Admin, topics: readonly string[]): Promise<Map<string, number>> {
  const existing = new Set(await admin.listTopics());
  const wanted = [...new Set(topics)].filter((t) => existing.has(t));
  if (wanted.length === 0) return new Map();
  const meta = await admin.fetchTopicMetadata({ topics: wanted });
  return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
}

/** Creates the topics that do not exist yet, each with `partitions` partitions. */
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
    await admin.createTopics({ topics, waitForLeaders: false });
  } catch (err) {
    // Another instance may have created them at the same moment.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  await waitForLeaders(
    admin,
    missing.map((s) => s.topic),
  );
  return missing.map((s) => s.topic);
}

/**
 * Waits until every partition of the topics has a leader. Right after creation the
 * broker may still answer that it does not host a partition; that is asked again.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (
        metadata.length === topics.length &&
        metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      )
        return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Creates what a topology's topics lack and checks they are co-partitioned; returns the
 * partition count of its inputs. The inputs that exist say how many partitions the
 * topology has (an internal input, its own count; none yet, `partitions`), and what is
 * missing is created with that count, the changelog included.
 */
export async function prepareTopologyTopics(
  admin: Admin,
  topology: Pick<Topology<unknown>, 'name' | 'inputs' | 'outputs' | 'internalTopics'>,
  changelog: string,
  options: { partitions: number; replicationFactor: number; log: Logger },
): Promise<number> {
  const check = (counts: ReadonlyMap<string, number>) => {
    const problem = coPartitioningProblem(counts, topology.inputs, changelog);
    if (problem !== null) throw new ChurnError('CHURN_TOPICS_NOT_COPARTITIONED', `${topology.name}: ${problem}`);
  };
  const internal = topology.internalTopics ?? [];
  const internalNames = new Set(internal.map((t) => t.topic));
  const before = await partitionCounts(admin, [...topology.inputs, changelog]);
  check(before);
  const existingInput = topology.inputs.find((t) => before.has(t));
  const fixedInternalInput = internal.find((t) => topology.inputs.includes(t.topic) && typeof t.partitions === 'number')
    ?.partitions as number | undefined;
  const partitions =
    existingInput !== undefined ? (before.get(existingInput) as number) : (fixedInternalInput ?? options.partitions);
  const created = await ensureTopics(
    admin,
    topicsOf(
      topology.inputs.filter((t) => !internalNames.has(t)),
      topology.outputs.filter((t) => !internalNames.has(t)),
      changelog,
    ),
    partitions,
    options.replicationFactor,
  );
  // A co-partitioned internal topic has the customer-scoped topics' count.
  const customerScoped =
    (await partitionCounts(admin, ['customer.profiles.v1'])).get('customer.profiles.v1') ?? options.partitions;
  for (const t of internal) {
    created.push(
      ...(await ensureTopics(
        admin,
        topicsOf(topology.inputs.includes(t.topic) ? [t.topic] : [], [t.topic]),
        t.partitions === 'co-partitioned' ? customerScoped : t.partitions,
        options.replicationFactor,
      )),
    );
  }
  if (created.length > 0) options.log.info({ topics: created, partitions }, 'created missing topics');
  // Again with what was created (another instance may have created some at the same time).
  const counts = await partitionCounts(admin, [...topology.inputs, changelog]);
  check(counts);
  return counts.get(topology.inputs[0] as string) ?? partitions;
}
