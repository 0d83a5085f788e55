import type { Policy } from '@churn/domain';
import type { Topology } from '@churn/runtime';
import { customerValueTopology } from '@churn/service-customer-value';
import { decisionsTopologies } from '@churn/service-decisions';
import { engineTopologies } from '@churn/service-engine';
import { followUpsTopology } from '@churn/service-follow-ups';
import { signalsTopology } from '@churn/service-signals';
import { structuralIssuesTopology, structuralRouteTopology } from '@churn/service-structural';

/**
 * How the pipeline is deployed. `engine`: one service runs every customer-scoped
 * processor on one read of each record and one state per customer (the default).
 * `services`: one service per processor, each with its own consumer group and state,
 * for isolation. Both give the same outputs, ids included.
 */
export type Shape = 'engine' | 'services';
export const SHAPES: readonly Shape[] = ['engine', 'services'];

/** A deployable service: its name (the process's) and the topologies it runs. */
export interface Deployable {
  readonly service: string;
  readonly dir: string;
  readonly topologies: Topology<unknown>[];
}

/** The services of a deployment shape, in the order events flow through them. */
export function servicesOf(policy: Policy, shape: Shape = 'engine'): Deployable[] {
  if (shape === 'engine') return [{ service: 'churn-engine', dir: 'engine', topologies: engineTopologies(policy) }];
  return [
    { service: 'churn-customer-value', dir: 'customer-value', topologies: [customerValueTopology(policy)] },
    { service: 'churn-decisions', dir: 'decisions', topologies: decisionsTopologies(policy) },
    { service: 'churn-signals', dir: 'signals', topologies: [signalsTopology(policy)] },
    { service: 'churn-follow-ups', dir: 'follow-ups', topologies: [followUpsTopology(policy)] },
    {
      service: 'churn-structural',
      dir: 'structural',
      topologies: [structuralRouteTopology(policy), structuralIssuesTopology(policy)],
    },
  ] as Deployable[];
}

/** Every topology of a deployment shape, in the order events flow through them. */
export function allTopologies(policy: Policy, shape: Shape = 'engine'): Topology<unknown>[] {
  return servicesOf(policy, shape).flatMap((s) => s.topologies);
}
