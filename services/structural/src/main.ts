import { loadPolicy, type Policy } from '@churn/domain';
import { loadConfig, parseConfig, readJsonFile, runMain, startService } from '@churn/runtime';
import { configShape } from './config.ts';
import { SERVICE, structuralIssuesTopology, structuralRouteTopology } from './topology.ts';

/** The topologies this service runs under `policy`. */
const topologiesOf = (policy: Policy) => [structuralRouteTopology(policy), structuralIssuesTopology(policy)];

runMain(
  SERVICE,
  async () => {
    const config = loadConfig(configShape, process.env, SERVICE);
    const policy = loadPolicy(readJsonFile(config.POLICY_FILE));
    await startService({ name: SERVICE, topologies: topologiesOf(policy), config });
  },
  {
    about:
      'counts the decided cancellations whose reason is structural (PRODUCT_GAP, SERVICE_ISSUE) per reason over a sliding window, and alerts management when a reason reaches the threshold.',
    environment: { Environment: configShape },
    topologies: () =>
      topologiesOf(
        loadPolicy(readJsonFile(parseConfig({ POLICY_FILE: configShape.POLICY_FILE }, process.env).POLICY_FILE)),
      ),
  },
);
