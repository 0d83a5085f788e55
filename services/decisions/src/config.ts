import { policyServiceEnv } from '@churn/runtime';

/** Everything the service reads from the environment (docs/operations.md#configuration). */
export const configShape = policyServiceEnv;
