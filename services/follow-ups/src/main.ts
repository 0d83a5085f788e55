import { loadPolicy } from '@churn/domain';
import { runPolicyService } from '@churn/runtime';
import { followUpsTopology, SERVICE } from './topology.ts';

runPolicyService({
  service: SERVICE,
  about:
    "runs the follow-up program: follow-up tasks when a customer's cadence has passed, alerts when no outcome is recorded in time, at-risk dialogues with a deadline.",
  loadPolicy,
  topologies: (policy) => [followUpsTopology(policy)],
});
