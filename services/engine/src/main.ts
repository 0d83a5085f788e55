import { loadPolicy, type Policy } from '@churn/domain';
import { loadConfig, parseConfig, readJsonFile, runMain, startService } from '@churn/runtime';
import { configShape } from './config.ts';
import { engineTopologies, SERVICE } from './topology.ts';

/** The topologies this service runs under `policy`. */
const topologiesOf = (policy: Policy) => engineTopologies(policy);

runMain(
  SERVICE,
  async () => {
    const config = loadConfig(configShape, process.env, SERVICE);
    const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
    await startService({ name: SERVICE, topologies: topologiesOf(policy), config });
  },
  {
    about:
      'the whole pipeline as one service: every customer-scoped processor (customer value, decisions, survey and invoice signals, follow-ups) on one read of each record and one state per customer, with the learning stage and the structural count beside it.',
    environment: { Environment: configShape },
    topologies: () =>
      topologiesOf(
        loadPolicy(readJsonFile(parseConfig({ POLICY_FILE: configShape.POLICY_FILE }, process.env).POLICY_FILE)),
      ),
  },
);
