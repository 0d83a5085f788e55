import { DEFAULT_POLICY_FILE, kafkaServiceEnv } from '@churn/runtime';
import { z } from 'zod';

/** Everything the service reads from the environment; see the README's configuration table. */
export const configShape = {
  ...kafkaServiceEnv,
  POLICY_FILE: z.string().default(DEFAULT_POLICY_FILE),
} as const;
