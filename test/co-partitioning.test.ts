/**
 * Co-partitioning is checked at start-up: a service whose inputs have different
 * partition counts, or whose changelog has another count than its inputs, stops with an
 * error that names each topic and its count, and its process exits 1.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Topology } from '@churn/runtime';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka } from './support/kafka.ts';
import { serviceProcessEnv, startTestService } from './support/pipeline.ts';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '..');

describe('co-partitioning at start-up', () => {
  const id = crypto.randomUUID().slice(0, 8);
  const topic = (name: string) => `churn-test.copart-${name}-${id}`;
  const created: string[] = [];
  let admin: Admin;

  const create = async (name: string, partitions: number) => {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: partitions }] });
    created.push(name);
  };
  const topologyOver = (name: string, inputs: Array<[string, number]>): Topology<unknown> => ({
    name,
    inputs: inputs.map(([t]) => t),
    outputs: [],
    internalTopics: inputs.map(([t, partitions]) => ({ topic: t, record: 'SurveyResult' as const, partitions })),
    process: () => ({ state: undefined, emit: [] }),
  });

  beforeAll(async () => {
    admin = testKafka().admin();
    await admin.connect();
  });

  afterAll(async () => {
    const existing = new Set(await admin.listTopics());
    const ours = existing.size > 0 ? [...existing].filter((t) => t.includes(id)) : [];
    if (ours.length > 0) await admin.deleteTopics({ topics: ours }).catch(() => {});
    await admin.disconnect();
  });

  it('refuses inputs with different partition counts, naming each', async () => {
    await create(topic('a'), 2);
    await create(topic('b'), 3);
    const name = `churn-test-copart-${id}`;
    const started = startTestService(name, [
      topologyOver(name, [
        [topic('a'), 2],
        [topic('b'), 3],
      ]),
    ]);
    const error = (await started.then(
      () => null,
      (e: unknown) => e,
    )) as { code?: string; message?: string } | null;
    expect(error?.code).toBe('CHURN_TOPICS_NOT_COPARTITIONED');
    expect(error?.message).toContain(`${topic('a')} has 2 partitions`);
    expect(error?.message).toContain(`${topic('b')} has 3 partitions`);
  });

  it("creates the changelog with the inputs' count, not TOPIC_PARTITIONS", async () => {
    await create(topic('c'), 2);
    const name = `churn-test-copart-c-${id}`;
    const service = await startTestService(name, [topologyOver(name, [[topic('c'), 2]])], { TOPIC_PARTITIONS: '5' });
    try {
      const changelog = service.runners[0]?.changelog as string;
      const meta = await admin.fetchTopicMetadata({ topics: [changelog] });
      expect(meta.topics[0]?.partitions).toHaveLength(2);
      created.push(changelog);
    } finally {
      await service.stop();
    }
  });

  it('stops a service process whose changelog has another count than its inputs, with exit 1', async () => {
    const name = `churn-test-copart-d-${id}`;
    await create(topic('d'), 2);
    await create(`${name}-state-changelog`, 3);
    const error = await run(
      process.execPath,
      ['--conditions=source', resolve(repoRoot, 'test/support/topology-service.ts')],
      {
        cwd: repoRoot,
        env: serviceProcessEnv({ LOG_LEVEL: 'warn', TEST_SERVICE: name, TEST_INPUTS: `${topic('d')}:2` }),
      },
    ).catch((e: unknown) => e as { code: number; stderr: string });
    expect(error).toMatchObject({ code: 1 });
    const { stderr } = error as { stderr: string };
    expect(stderr).toContain(`${name}-state-changelog has 3 partitions`);
    expect(stderr).toContain(`${topic('d')} has 2 partitions`);
  });
});
