/**
 * The fault suite's input: a generated population (the good events), with bad records
 * and duplicates mixed in at a given share, each tagged with a header so that its dead
 * letters can be found again. Also says, for every bad record, which services of the
 * deployment shape must dead-letter it.
 */
import { randomBytes } from 'node:crypto';
import { allTopologies, generatePopulation, type OfflineEvent, Random, type Shape } from '@churn/cli';
import { avroSchemas, inputTopics, type RecordName, recordOfTopic } from '@churn/contracts';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import avro from 'avsc';
import { Partitioners } from 'kafkajs';

/** Header naming a bad record of the suite: `<kind>:<n>`. Dead letters keep the original headers. */
export const FAULT_HEADER = 'churn.fault.id';
export const PARTITIONS = 3;
/** The services' MAX_RECORD_BYTES in the suite: an oversized record is just above it. */
export const MAX_RECORD_BYTES = 64 * 1024;

export const INPUT_TOPICS = inputTopics;
type InputTopic = (typeof INPUT_TOPICS)[number];

/**
 * Which topologies of a deployment shape dead-letter a bad record of each input topic:
 * each consumer group that reads the topic does so on its own. In the engine shape one
 * group reads every customer-scoped input, so a bad record is dead-lettered once; in the
 * services shape once per service that reads its topic. A cancellation of a customer
 * nobody knows is refused only where cancellations are decided.
 */
export function deadLetterers(shape: Shape): {
  readers: ReadonlyMap<string, readonly string[]>;
  deciders: readonly string[];
} {
  const topologies = allTopologies(loadPolicy(readJsonFile(DEFAULT_POLICY_FILE)), shape);
  return {
    readers: new Map(
      INPUT_TOPICS.map((topic) => [topic, topologies.filter((t) => t.inputs.includes(topic)).map((t) => t.name)]),
    ),
    deciders: topologies
      .filter((t) => t.inputs.includes('customer.cancellations.v1') && t.outputs.includes('churn.decisions.v1'))
      .map((t) => t.name),
  };
}

export const BAD_KINDS = [
  'random-bytes',
  'truncated-avro',
  'magic-not-zero',
  'unknown-schema-id',
  'other-subject-schema-id',
  'negative-amount',
  'nps-11',
  'unknown-customer',
  'missing-key',
  'key-not-customer',
  'oversized',
  'duplicate',
] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** One record to produce, already in bytes (or a good event to encode). */
export type InputRecord =
  | { kind: 'good'; event: OfflineEvent }
  | { kind: 'duplicate'; event: OfflineEvent; id: string }
  | {
      kind: Exclude<BadKind, 'duplicate'>;
      id: string;
      topic: InputTopic;
      key: string | null;
      /** Raw bytes, or a value to write with the schema id of `schemaOf`'s topic without validation. */
      bytes?: Buffer;
      raw?: { record: RecordName; value: unknown; schemaOf: string; truncate?: boolean };
    };

export interface FaultInput {
  records: InputRecord[];
  good: OfflineEvent[];
  /** Bad record id -> the services that must dead-letter it. */
  expectedDeadLetters: Map<string, readonly string[]>;
  counts: Record<string, number>;
}

const partitioner = Partitioners.DefaultPartitioner();
/** The partition the producer puts `key` in (murmur2, as every Kafka client does by default). */
export function partitionOf(key: string): number {
  return partitioner({
    topic: 'any',
    partitionMetadata: Array.from({ length: PARTITIONS }, (_, i) => ({
      partitionId: i,
      leader: 1,
      partitionErrorCode: 0,
      replicas: [1],
      isr: [1],
    })),
    message: { key, value: null },
  });
}

/**
 * `customers` generated over 14 months, and for every partition a last profile and a
 * last cancellation at the file's last event time: each partition's clock (and each
 * decision partition's, which the structural count's watermark follows) then ends on
 * the file's last day, as the replay's does.
 */
export function goodEvents(customers: number, seed: number): OfflineEvent[] {
  const events = generatePopulation({ customers, months: 14, seed, idPrefix: 'f-' });
  const last = Math.max(...events.map((e) => (e.value as { occurredAt: number }).occurredAt));
  const profiles = events.filter((e) => e.topic === 'customer.profiles.v1');
  for (let p = 0; p < PARTITIONS; p++) {
    const profile = profiles.find((e) => partitionOf(e.key) === p);
    if (!profile) throw new Error(`no customer in partition ${p}; generate more customers`);
    const value = profile.value as { eventId: string };
    events.push({
      topic: profile.topic,
      key: profile.key,
      value: { ...value, eventId: `f0000000-0000-4000-8000-00000000000${p}`, occurredAt: last },
    });
    events.push({
      topic: 'customer.cancellations.v1',
      key: profile.key,
      value: {
        eventId: `f0000000-0000-4000-8000-00000000001${p}`,
        occurredAt: last,
        cancellationId: `canc-closing-${p}`,
        customerId: profile.key,
        subscriptionId: null,
        effectiveAt: null,
        channel: 'PHONE',
        reason: 'PRICE',
        reasonText: null,
      },
    });
  }
  return events;
}

/**
 * Mixes bad records and duplicates into `good` so that they make `share` of all records;
 * the dead letters expected are those of `shape`'s services.
 */
export function mixInput(good: OfflineEvent[], share: number, seed: number, shape: Shape): FaultInput {
  const rnd = new Random(seed);
  const { readers, deciders } = deadLetterers(shape);
  const records: InputRecord[] = [];
  const expectedDeadLetters = new Map<string, readonly string[]>();
  const counts: Record<string, number> = { good: good.length };
  const badPerGood = share / (1 - share);
  let n = 0;
  const pickTopic = () => INPUT_TOPICS[rnd.int(0, INPUT_TOPICS.length - 1)] as InputTopic;
  const ofTopic = (topic: string, before: number) => {
    for (let i = before; i >= 0; i--) if (good[i]?.topic === topic) return good[i] as OfflineEvent;
    return good.find((e) => e.topic === topic) as OfflineEvent;
  };
  let owed = 0;
  for (let i = 0; i < good.length; i++) {
    records.push({ kind: 'good', event: good[i] as OfflineEvent });
    owed += badPerGood;
    while (owed >= 1) {
      owed -= 1;
      const kind = BAD_KINDS[rnd.int(0, BAD_KINDS.length - 1)] as BadKind;
      const id = `${kind}:${n++}`;
      counts[kind] = (counts[kind] ?? 0) + 1;
      const event = good[rnd.int(Math.max(0, i - 2000), i)] as OfflineEvent;
      if (kind === 'duplicate') {
        records.push({ kind, event, id });
        continue;
      }
      let topic = pickTopic();
      let record: InputRecord;
      switch (kind) {
        case 'random-bytes': {
          const bytes = randomBytes(rnd.int(1, 300));
          if (bytes[0] === 0 && bytes.length > 1) bytes[1] = 0xff; // no accidental known schema id
          record = { kind, id, topic, key: event.key, bytes };
          break;
        }
        case 'truncated-avro': {
          const e = ofTopic(topic, i);
          record = {
            kind,
            id,
            topic,
            key: e.key,
            raw: { record: recordOfTopic(topic), value: e.value, schemaOf: topic, truncate: true },
          };
          break;
        }
        case 'magic-not-zero':
        case 'unknown-schema-id': {
          const e = ofTopic(topic, i);
          const body = avro.Type.forSchema(avroSchemas[recordOfTopic(topic)] as avro.Schema).toBuffer(e.value);
          const header = Buffer.alloc(5);
          header[0] = kind === 'magic-not-zero' ? 1 + rnd.int(0, 254) : 0;
          header.writeInt32BE(kind === 'unknown-schema-id' ? 900_000 + rnd.int(0, 99_999) : 1, 1);
          record = { kind, id, topic, key: e.key, bytes: Buffer.concat([header, body]) };
          break;
        }
        case 'other-subject-schema-id': {
          // A profile, written with the profile subject's id, onto another input topic.
          topic = INPUT_TOPICS[rnd.int(1, INPUT_TOPICS.length - 1)] as InputTopic;
          const e = ofTopic('customer.profiles.v1', i);
          record = {
            kind,
            id,
            topic,
            key: e.key,
            raw: { record: 'CustomerProfile', value: e.value, schemaOf: 'customer.profiles.v1' },
          };
          break;
        }
        case 'negative-amount': {
          topic = 'billing.invoices.v1';
          const e = ofTopic(topic, i);
          const value = { ...(e.value as object), eventId: crypto.randomUUID(), amount: -rnd.int(1, 100_000) };
          record = { kind, id, topic, key: e.key, raw: { record: 'InvoiceEvent', value, schemaOf: topic } };
          break;
        }
        case 'nps-11': {
          topic = 'customer.surveys.v1';
          const e = ofTopic(topic, i);
          const value = {
            ...(e.value as object),
            eventId: crypto.randomUUID(),
            kind: 'NPS',
            status: 'ANSWERED',
            score: 11,
          };
          record = { kind, id, topic, key: e.key, raw: { record: 'SurveyResult', value, schemaOf: topic } };
          break;
        }
        case 'unknown-customer': {
          topic = 'customer.cancellations.v1';
          const customerId = `ghost-${n}`;
          const value = {
            eventId: crypto.randomUUID(),
            occurredAt: (event.value as { occurredAt: number }).occurredAt,
            cancellationId: `canc-ghost-${n}`,
            customerId,
            subscriptionId: null,
            effectiveAt: null,
            channel: 'WEB',
            reason: 'PRICE',
            reasonText: 'I never signed up',
          };
          record = {
            kind,
            id,
            topic,
            key: customerId,
            raw: { record: 'CancellationRequested', value, schemaOf: topic },
          };
          break;
        }
        case 'missing-key':
        case 'key-not-customer': {
          // The broker itself refuses a record without a key on a compacted topic (profiles).
          if (kind === 'missing-key' && topic === 'customer.profiles.v1') topic = 'billing.invoices.v1';
          const e = ofTopic(topic, i);
          const value = { ...(e.value as object), eventId: crypto.randomUUID() };
          const key = kind === 'missing-key' ? null : `not-${e.key}`;
          record = { kind, id, topic, key, raw: { record: recordOfTopic(topic), value, schemaOf: topic } };
          break;
        }
        case 'oversized': {
          topic = 'customer.surveys.v1';
          const e = ofTopic(topic, i);
          const value = {
            ...(e.value as object),
            eventId: crypto.randomUUID(),
            comment: 'x'.repeat(MAX_RECORD_BYTES + 1024),
          };
          record = { kind, id, topic, key: e.key, raw: { record: 'SurveyResult', value, schemaOf: topic } };
          break;
        }
      }
      records.push(record);
      expectedDeadLetters.set(id, kind === 'unknown-customer' ? deciders : (readers.get(record.topic) ?? []));
    }
  }
  return { records, good, expectedDeadLetters, counts };
}
