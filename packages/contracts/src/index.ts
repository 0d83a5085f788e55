/**
 * @churn/contracts: the event contracts of the churn pipeline as code.
 *
 * The Avro schemas under `schemas/` are the source of truth; the record types, enum
 * value lists and zod validators here are generated from them
 * (`npm run contracts:generate`), so the two cannot drift. This package does no I/O and
 * is safe to import from the domain core.
 */
export * from './errors.ts';
export * from './generated/avro.ts';
export * from './generated/types.ts';
export * from './generated/validators.ts';
export * from './topics.ts';
export * from './validate.ts';
