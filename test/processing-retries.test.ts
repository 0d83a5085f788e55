/**
 * What the runner tries again when a processor fails: a processor is a pure function of
 * the record and the state, so a domain error fails the same way every time and the
 * record goes to its dead-letter topic at once; only an error that says trying again can
 * help is tried again, MAX_PROCESSING_ATTEMPTS times.
 */
import { type CancellationRequested, ChurnError } from '@churn/contracts';
import { aCancellation } from '@churn/contracts/testing';
import { DLQ_HEADERS, type RunningService, type Topology } from '@churn/runtime';
import { type DecisionsState, decisionsTopology } from '@churn/service-decisions';
import type { Kafka, Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithTopics, type ReadRecord, readTopic, testSerde } from './support/kafka.ts';
import { priorsOnlyPolicy, ready, startTestService } from './support/pipeline.ts';

const ATTEMPTS = 3;

describe('processing failures', () => {
  const serde = testSerde();
  const name = `churn-test-retries-${crypto.randomUUID().slice(0, 8)}`;
  const unknown = `retry-unknown-${crypto.randomUUID().slice(0, 8)}`;
  const flaky = `retry-flaky-${crypto.randomUUID().slice(0, 8)}`;
  /** Calls of the processor per customer of this test. */
  const calls = new Map<string, number>();
  let kafka: Kafka;
  let producer: Producer;
  let service: RunningService;

  beforeAll(async () => {
    ({ kafka, producer } = await connectWithTopics());
    // The decision service's own processor, under a name of its own, counting its calls;
    // for one customer it fails as a call to something away would: retriably.
    const decisions = decisionsTopology(priorsOnlyPolicy());
    const topology: Topology<DecisionsState> = {
      ...decisions,
      name,
      inputs: ['customer.cancellations.v1'],
      outputs: [],
      process: (record, state, now) => {
        const id = (record.value as CancellationRequested).customerId;
        if (id === unknown || id === flaky) calls.set(id, (calls.get(id) ?? 0) + 1);
        if (id === flaky) throw new ChurnError('CHURN_REGISTRY_UNAVAILABLE', 'away for now');
        if (id !== unknown) return { state, emit: [] };
        return { ...decisions.process(record, state, now), emit: [] };
      },
    };
    service = await startTestService(name, [topology as Topology<unknown>], {
      MAX_PROCESSING_ATTEMPTS: String(ATTEMPTS),
    });
    await ready(service);
  });

  afterAll(async () => {
    await service?.stop();
    await producer?.disconnect();
  });

  const send = async (c: CancellationRequested) =>
    producer.send({
      topic: 'customer.cancellations.v1',
      messages: [{ key: c.customerId, value: await serde.encode('customer.cancellations.v1', c) }],
    });
  const header = (r: ReadRecord, h: string) => String(r.headers[h] ?? '');
  const deadLetterOf = async (customerId: string) => {
    const mine = (records: ReadRecord[]) =>
      records.filter((r) => r.key === customerId && header(r, DLQ_HEADERS.service) === name);
    return mine(await readTopic(kafka, 'customer.cancellations.v1.dlq', (records) => mine(records).length > 0));
  };

  it('dead-letters a cancellation of an unknown customer at the first attempt', async () => {
    await send(aCancellation({ customerId: unknown, cancellationId: `canc-${unknown}` }));
    const [dead, ...more] = await deadLetterOf(unknown);
    expect(more).toHaveLength(0);
    expect(header(dead as ReadRecord, DLQ_HEADERS.code)).toBe('CHURN_UNKNOWN_CUSTOMER');
    expect(header(dead as ReadRecord, DLQ_HEADERS.attempts)).toBe('1');
    expect(calls.get(unknown)).toBe(1);
  });

  it('tries a retriable failure MAX_PROCESSING_ATTEMPTS times, then dead-letters it', async () => {
    await send(aCancellation({ customerId: flaky, cancellationId: `canc-${flaky}` }));
    const [dead, ...more] = await deadLetterOf(flaky);
    expect(more).toHaveLength(0);
    expect(header(dead as ReadRecord, DLQ_HEADERS.code)).toBe('CHURN_REGISTRY_UNAVAILABLE');
    expect(header(dead as ReadRecord, DLQ_HEADERS.attempts)).toBe(String(ATTEMPTS));
    expect(calls.get(flaky)).toBe(ATTEMPTS);
    const retries = await service.metrics.registry.getSingleMetricAsString('churn_retries_total');
    expect(retries).toContain(`churn_retries_total{service="${name}",reason="processing"} ${ATTEMPTS - 1}`);
  });
});
