/**
 * @churn/serde: contract records in the Confluent wire format (magic byte 0, 4-byte
 * schema id, Avro binary) through a Confluent-compatible schema registry, plus the
 * registry calls the schema checks need.
 */
export * from './contract-serde.ts';
export * from './registry-admin.ts';
export * from './schema-check.ts';
