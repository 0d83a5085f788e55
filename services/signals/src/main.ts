import { loadPolicy, type Policy } from '@churn/domain';
import { loadConfig, parseConfig, readJsonFile, runMain, startService } from '@churn/runtime';
import { configShape } from './config.ts';
import { SERVICE, signalsTopology } from './topology.ts';

/** The topologies this service runs under `policy`. */
const topologiesOf = (policy: Policy) => [signalsTopology(policy)];

runMain(
  SERVICE,
  async () => {
    const config = loadConfig(configShape, process.env, SERVICE);
    const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
    await startService({ name: SERVICE, topologies: topologiesOf(policy), config });
  },
  {
    about:
      'routes survey results (referrals, recovery for valuable detractors, silent customers) and signals overdue invoices (payment follow-ups and payment-risk alerts).',
    environment: { Environment: configShape },
    topologies: () =>
      topologiesOf(
        loadPolicy(readJsonFile(parseConfig({ POLICY_FILE: configShape.POLICY_FILE }, process.env).POLICY_FILE)),
      ),
  },
);
