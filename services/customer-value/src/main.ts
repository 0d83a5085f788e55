import { loadPolicy, type Policy } from '@churn/domain';
import { loadConfig, parseConfig, readJsonFile, runMain, startService } from '@churn/runtime';
import { configShape } from './config.ts';
import { customerValueTopology, SERVICE } from './topology.ts';

/** The topologies this service runs under `policy`. */
const topologiesOf = (policy: Policy) => [customerValueTopology(policy)];

runMain(
  SERVICE,
  async () => {
    const config = loadConfig(configShape, process.env, SERVICE);
    const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
    await startService({ name: SERVICE, topologies: topologiesOf(policy), config });
  },
  {
    about:
      'keeps what each customer is worth from profile, invoice and survey events and publishes a CustomerValue snapshot whenever something a reader cares about changes.',
    environment: { Environment: configShape },
    topologies: () =>
      topologiesOf(
        loadPolicy(readJsonFile(parseConfig({ POLICY_FILE: configShape.POLICY_FILE }, process.env).POLICY_FILE)),
      ),
  },
);
