import { loadPolicy } from '@churn/domain';
import { loadConfig, readJsonFile, runMain, startService } from '@churn/runtime';
import { configShape } from './config.ts';
import { engineTopologies, SERVICE } from './topology.ts';

runMain(SERVICE, async () => {
  const config = loadConfig(configShape, process.env, SERVICE);
  const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
  await startService({ name: SERVICE, topologies: engineTopologies(policy), config });
});
