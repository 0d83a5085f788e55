/**
 * The default policy file, loaded for tests and benchmarks. The specifier is a variable
 * so that the compiler does not pull a file outside `src` into the build; the path is the
 * same from `src/testing` and `dist/testing`.
 */
import { loadPolicy, mergeDocuments, type Policy } from '../policy.ts';

const DEFAULT_POLICY_FILE = '../../../../policies/default.json';

/** The JSON document of `policies/default.json`, as parsed (not validated). */
export const defaultPolicyDocument: unknown = (
  (await import(DEFAULT_POLICY_FILE, { with: { type: 'json' } })) as { default: unknown }
).default;

/** `policies/default.json`, loaded and frozen. */
export const defaultPolicy: Policy = loadPolicy(defaultPolicyDocument);

/** The default policy with learning turned on, whatever the file says. */
export const learningPolicy: Policy = loadPolicy(
  mergeDocuments(defaultPolicyDocument, { version: 'default-learning', learning: { enabled: true } }),
);

/** The default policy with learning turned off: decisions from the priors only. */
export const priorsOnlyPolicy: Policy = loadPolicy(
  mergeDocuments(defaultPolicyDocument, { version: 'default-priors', learning: { enabled: false } }),
);
