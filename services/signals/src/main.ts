import { loadPolicy } from '@churn/domain';
import { runPolicyService } from '@churn/runtime';
import { SERVICE, signalsTopology } from './topology.ts';

runPolicyService({
  service: SERVICE,
  about:
    'routes survey results (referrals, recovery for valuable detractors, silent customers) and signals overdue invoices (payment follow-ups and payment-risk alerts).',
  loadPolicy,
  topologies: (policy) => [signalsTopology(policy)],
});
