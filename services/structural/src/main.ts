import { loadPolicy } from '@churn/domain';
import { runPolicyService } from '@churn/runtime';
import { SERVICE, structuralIssuesTopology, structuralRouteTopology } from './topology.ts';

runPolicyService({
  service: SERVICE,
  about:
    'counts the decided cancellations whose reason is structural (PRODUCT_GAP, SERVICE_ISSUE) per reason over a sliding window, and alerts management when a reason reaches the threshold.',
  loadPolicy,
  topologies: (policy) => [structuralRouteTopology(policy), structuralIssuesTopology(policy)],
});
