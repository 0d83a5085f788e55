/**
 * A service process over a test topology, started the way every service's main starts
 * (runMain: a start-up error is printed and the process exits 1). Its inputs are internal
 * topics named in TEST_INPUTS as `topic:partitions,...`, each carrying SurveyResult.
 */
import { kafkaServiceEnv, loadConfig, runMain, startService, type Topology } from '@churn/runtime';

const name = process.env.TEST_SERVICE ?? 'churn-test-topology';
runMain(name, async () => {
  const config = loadConfig(kafkaServiceEnv, process.env, name);
  const internalTopics = (process.env.TEST_INPUTS ?? '').split(',').map((spec) => {
    const [topic, partitions] = spec.split(':');
    return { topic: topic as string, record: 'SurveyResult' as const, partitions: Number(partitions) };
  });
  const topology: Topology<undefined> = {
    name,
    inputs: internalTopics.map((t) => t.topic),
    outputs: [],
    internalTopics,
    process: () => ({ state: undefined, emit: [] }),
  };
  await startService({ name, topologies: [topology as Topology<unknown>], config });
});
