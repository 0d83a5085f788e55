import { loadPolicy, type Policy } from '@churn/domain';
import { loadConfig, parseConfig, readJsonFile, runMain, startService } from '@churn/runtime';
import { configShape } from './config.ts';
import { followUpsTopology, SERVICE } from './topology.ts';

/** The topologies this service runs under `policy`. */
const topologiesOf = (policy: Policy) => [followUpsTopology(policy)];

runMain(
  SERVICE,
  async () => {
    const config = loadConfig(configShape, process.env, SERVICE);
    const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
    await startService({ name: SERVICE, topologies: topologiesOf(policy), config });
  },
  {
    about:
      "runs the follow-up program: follow-up tasks when a customer's cadence has passed, alerts when no outcome is recorded in time, at-risk dialogues with a deadline.",
    environment: { Environment: configShape },
    topologies: () =>
      topologiesOf(
        loadPolicy(readJsonFile(parseConfig({ POLICY_FILE: configShape.POLICY_FILE }, process.env).POLICY_FILE)),
      ),
  },
);
