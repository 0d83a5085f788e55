import type { Policy } from '@churn/domain';
import type { Topology } from '@churn/runtime';
import { customerValueTopology } from '@churn/service-customer-value';
import { decisionsTopology } from '@churn/service-decisions';

/** Every service's topology, in the order events flow through them. */
export function allTopologies(policy: Policy): Topology<unknown>[] {
  return [customerValueTopology(policy), decisionsTopology(policy)] as Topology<unknown>[];
}
