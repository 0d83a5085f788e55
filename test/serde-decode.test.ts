import { ChurnError, ContractViolation } from '@churn/contracts';
import { aCancellation, aCustomerProfile, aSurveyResult } from '@churn/contracts/testing';
import { describe, expect, it } from 'vitest';
import { testSerde } from './support/kafka.ts';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ChurnError);
  return (error as ChurnError).code;
}

describe('decoding refuses bytes that are not a record of the topic, with a reason', () => {
  const serde = testSerde();
  const topic = 'customer.cancellations.v1' as const;

  it('refuses random bytes shorter than the wire header', async () => {
    expect(await codeOf(serde.decode(topic, Buffer.from([0, 1])))).toBe('CHURN_WIRE_FORMAT');
  });

  it('refuses a magic byte that is not 0', async () => {
    const bytes = await serde.encode(topic, aCancellation());
    bytes[0] = 1;
    expect(await codeOf(serde.decode(topic, bytes))).toBe('CHURN_WIRE_FORMAT');
  });

  it('refuses truncated Avro', async () => {
    const bytes = await serde.encode(topic, aCancellation());
    expect(await codeOf(serde.decode(topic, bytes.subarray(0, bytes.length - 7)))).toBe('CHURN_AVRO_DECODE');
  });

  it('refuses a schema id the registry does not know', async () => {
    const bytes = await serde.encode(topic, aCancellation());
    bytes.writeInt32BE(987_654_321, 1);
    expect(await codeOf(serde.decode(topic, bytes))).toBe('CHURN_SCHEMA_UNKNOWN');
  });

  it('refuses a schema id of another subject', async () => {
    const profile = await serde.encode('customer.profiles.v1', aCustomerProfile());
    expect(await codeOf(serde.decode(topic, profile))).toBe('CHURN_SCHEMA_MISMATCH');
  });

  it('refuses valid Avro that breaks the meaning of the contract (NPS 11)', async () => {
    const good = await serde.encode('customer.surveys.v1', aSurveyResult({ score: 9 }));
    // Same bytes with the score re-encoded as 11: Avro ints are zig-zag varints, 9 -> 18, 11 -> 22.
    const index = good.lastIndexOf(18, good.length - 1);
    const bad = Buffer.from(good);
    bad[index] = 22;
    const error = await serde.decode('customer.surveys.v1', bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractViolation);
    expect((error as ContractViolation).issues).toEqual([
      { path: 'score', message: 'NPS scores run from 0 to 10, got 11' },
    ]);
  });
});
