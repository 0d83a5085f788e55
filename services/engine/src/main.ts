import { loadPolicy } from '@churn/domain';
import { runPolicyService } from '@churn/runtime';
import { engineTopologies, SERVICE } from './topology.ts';

runPolicyService({
  service: SERVICE,
  about:
    'the whole pipeline as one service: every customer-scoped processor (customer value, decisions, survey and invoice signals, follow-ups) on one read of each record and one state per customer, with the learning stage and the structural count beside it.',
  loadPolicy,
  topologies: engineTopologies,
});
