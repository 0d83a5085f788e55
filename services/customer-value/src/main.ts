import { loadPolicy } from '@churn/domain';
import { runPolicyService } from '@churn/runtime';
import { customerValueTopology, SERVICE } from './topology.ts';

runPolicyService({
  service: SERVICE,
  about:
    'keeps what each customer is worth from profile, invoice and survey events and publishes a CustomerValue snapshot whenever something a reader cares about changes.',
  loadPolicy,
  topologies: (policy) => [customerValueTopology(policy)],
});
