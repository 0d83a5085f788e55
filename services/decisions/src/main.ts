import { loadPolicy } from '@churn/domain';
import { runPolicyService } from '@churn/runtime';
import { decisionsTopologies, SERVICE } from './topology.ts';

runPolicyService({
  service: SERVICE,
  about:
    'decides on each cancellation: a win-back with the offer worth most, or a graceful offboarding, with the contact tasks and alerts that follow; when the policy learns, the learning stage runs beside it.',
  loadPolicy,
  topologies: decisionsTopologies,
});
