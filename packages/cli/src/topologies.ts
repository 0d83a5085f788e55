import type { Policy } from '@churn/domain';
import type { Topology } from '@churn/runtime';
import { customerValueTopology } from '@churn/service-customer-value';
import { decisionsTopologies } from '@churn/service-decisions';
import { followUpsTopology } from '@churn/service-follow-ups';
import { signalsTopology } from '@churn/service-signals';
import { structuralIssuesTopology, structuralRouteTopology } from '@churn/service-structural';

/** Every service's topology, in the order events flow through them. */
export function allTopologies(policy: Policy): Topology<unknown>[] {
  return [
    customerValueTopology(policy),
    ...decisionsTopologies(policy),
    signalsTopology(policy),
    followUpsTopology(policy),
    structuralRouteTopology(policy),
    structuralIssuesTopology(policy),
  ] as Topology<unknown>[];
}
