import {
  type ChurnError,
  ContractViolation,
  recordOfTopic,
  subjectOf,
  type TopicName,
  topicCatalogue,
} from '@churn/contracts';
import {
  aCancellation,
  aChurnAlert,
  aChurnDecision,
  aContactTask,
  aCustomerProfile,
  aCustomerValue,
  anInvoice,
  aSurveyResult,
  aTaskOutcome,
} from '@churn/contracts/testing';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithTopics, readTopic, testSerde } from './support/kafka.ts';

const builders: Record<TopicName, () => { customerId?: string | null; eventId?: string | null }> = {
  'customer.profiles.v1': () => aCustomerProfile(),
  'billing.invoices.v1': () => anInvoice({ status: 'PAID', paidAt: Date.UTC(2026, 0, 20) }),
  'customer.cancellations.v1': () => aCancellation({ reason: 'LIFE_CHANGE', effectiveAt: null }),
  'customer.surveys.v1': () => aSurveyResult({ kind: 'CSAT', score: 2 }),
  'contact-center.task-outcomes.v1': () => aTaskOutcome({ outcome: 'PAUSED', note: null }),
  'churn.customer-value.v1': () => aCustomerValue({ lastNps: null, tier: 'A', causationId: crypto.randomUUID() }),
  'churn.decisions.v1': () => aChurnDecision(),
  'churn.decisions.shadow.v1': () => aChurnDecision({ policyVersion: 'candidate-2026.2' }),
  'contact-center.tasks.v1': () => aContactTask({ kind: 'EXIT_SURVEY', offer: 'NONE', queue: 'automated' }),
  'churn.alerts.v1': () => aChurnAlert({ kind: 'STRUCTURAL_ISSUE', customerId: null, owner: 'management' }),
};

describe('every contract record round-trips through the real registry and a real topic', () => {
  let kafka: Kafka;
  let producer: Producer;
  const serde = testSerde();

  beforeAll(async () => {
    ({ kafka, producer } = await connectWithTopics());
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  it.each(topicCatalogue.map((t) => [t.topic, t.record] as const))('%s carries %s', async (topic) => {
    const record = builders[topic]();
    const key = record.customerId ?? 'no-customer';
    const bytes = await serde.encode(topic, record);

    // Confluent wire format: magic byte 0, then the id the registry gave this subject.
    const registered = await serde.admin.latestSchema(subjectOf(topic));
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(registered?.id);
    expect(bytes.readInt32BE(1)).toBe(await serde.schemaIdOf(topic));

    await producer.send({ topic, messages: [{ key, value: bytes }] });
    const read = await readTopic(kafka, topic, (rs) => rs.some((r) => r.value?.equals(bytes) === true));
    const mine = read.find((r) => r.value?.equals(bytes) === true);
    expect(mine?.key).toBe(key);
    const decoded = await serde.decode(topic, mine?.value ?? null);
    expect(decoded.value).toEqual(record);
    expect(decoded.schemaId).toBe(registered?.id);
  });
});

describe('a record that breaks its contract is refused with an error that names the field', () => {
  const serde = testSerde();

  it('names a missing required field', async () => {
    const { eventId: _dropped, ...withoutEventId } = aCancellation();
    const error = await serde.encode('customer.cancellations.v1', withoutEventId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractViolation);
    expect((error as ContractViolation).issues.map((i) => i.path)).toEqual(['eventId']);
    expect((error as Error).message).toContain('eventId');
  });

  it('names a field with an enum symbol the contract does not have', async () => {
    const error = await serde
      .encode('customer.cancellations.v1', { ...aCancellation(), reason: 'BORED' })
      .catch((e: unknown) => e as ChurnError);
    expect(error).toBeInstanceOf(ContractViolation);
    expect((error as ContractViolation).issues.map((i) => i.path)).toEqual(['reason']);
    expect((error as Error).message).toMatch(/reason: .*LIFE_CHANGE/);
  });

  it('names a nested field of a decision', async () => {
    const decision = aChurnDecision();
    const bad = { ...decision, value: { ...decision.value, tier: 'Z' } };
    const error = await serde.encode('churn.decisions.v1', bad).catch((e: unknown) => e);
    expect((error as ContractViolation).issues.map((i) => i.path)).toEqual(['value.tier']);
  });

  it('fills in the defaults of fields a producer leaves out', async () => {
    const { reasonText: _a, subscriptionId: _b, channel: _c, ...minimal } = aCancellation();
    const bytes = await serde.encode('customer.cancellations.v1', minimal);
    const { value } = await serde.decode('customer.cancellations.v1', bytes);
    expect(value).toMatchObject({ reasonText: null, subscriptionId: null, channel: 'OTHER' });
    expect(recordOfTopic('customer.cancellations.v1')).toBe('CancellationRequested');
  });
});
