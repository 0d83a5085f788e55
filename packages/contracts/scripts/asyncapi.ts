/**
 * The AsyncAPI 3.0.0 document of the pipeline (docs/asyncapi.yaml) and its HTML view
 * (docs/asyncapi.html), generated from the contracts and the code, never written by hand:
 *
 * - the topics and records: the topic catalogue and the self-contained Avro schema of
 *   every record (`avroSchemas`, generated from schemas/);
 * - which topics exist, which are internal, their partitions and configuration: every
 *   topology of every deployment shape is prepared against a simulated, empty cluster
 *   with the runner's own topic preparation (`prepareTopologyTopics`), for each policy
 *   feature that adds topics (learning, a shadow policy), with the default TOPIC_PARTITIONS
 *   and again with another count to tell which counts follow it;
 * - changelog names and consumer groups from the Kafka runner, dead-letter topics and
 *   their header names from the code that writes them (`deadLetterOf`, `DLQ_HEADERS`);
 * - example records from the fixture builders and the processors, with fixed ids and times.
 *
 * `generate.ts` writes both files and, with --check, fails when they are stale.
 */
import { readFileSync } from 'node:fs';
import { SHAPES, type Shape, servicesOf } from '@churn/cli';
import type { RecordName, TopicEntry } from '@churn/contracts';
import {
  avroSchemas,
  ChurnError,
  ContractViolation,
  deadLetterTopicOf,
  subjectOf,
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
  FIXTURE_NOW,
} from '@churn/contracts/testing';
import {
  deriveId,
  LEARNING_EVENTS_TOPIC,
  LEARNING_KEY,
  LEARNING_SNAPSHOTS_TOPIC,
  learningMark,
  loadPolicy,
  mergeDocuments,
  type Policy,
} from '@churn/domain';
import { aLearningSnapshot, DAY, defaultPolicyDocument } from '@churn/domain/testing';
import {
  classify,
  customerIdOf,
  DLQ_HEADERS,
  deadLetterOf,
  KafkaRunner,
  kafkaServiceEnv,
  type Logger,
  type OutputRecord,
  PipelineMetrics,
  prepareTopologyTopics,
  type Topology,
} from '@churn/runtime';
import { BY_REASON_TOPIC, structuralCancellationOf, structuralIssuesTopology } from '@churn/service-structural';
import type { Admin, Kafka } from 'kafkajs';
import { stringify } from 'yaml';
import { renderAsyncApiHtml } from './asyncapi-html.ts';

// ------------------------------------------------------------------ the model

export type ChannelKind = 'input' | 'output' | 'internal' | 'changelog' | 'dead-letter';
/** What a record key holds. */
export type KeyKind = 'customerId' | 'customerIdOrReason' | 'reason' | 'learning';

/** Who reads or writes a topic: the topology, its consumer group, in which deployment shape. */
export interface TopologyUse {
  readonly shape: Shape;
  readonly topology: string;
  readonly group: string;
}

/** A topic as the pipeline creates and uses it. */
export interface TopicFacts {
  readonly topic: string;
  readonly kind: ChannelKind;
  /** The contract record it carries; none for changelogs and dead-letter topics. */
  readonly record: RecordName | null;
  readonly key: KeyKind;
  readonly partitions: number;
  /** The partition count follows TOPIC_PARTITIONS (else it is fixed). */
  readonly followsTopicPartitions: boolean;
  readonly replicas: number;
  /** Topic configuration the pipeline sets when it creates the topic. */
  readonly config: Readonly<Record<string, string>>;
  readonly readers: readonly TopologyUse[];
  readonly writers: readonly TopologyUse[];
  readonly shapes: readonly Shape[];
  /** Policy features without which the pipeline does not use the topic. */
  readonly requires: readonly PolicyFeature[];
  /** For a dead-letter topic: the topic its records come from. */
  readonly source: string | null;
  /** For a changelog: how its states are written. */
  readonly stateCodec: 'json' | 'custom' | null;
}

/** A record as it would travel: its key and value, and for a dead letter its headers. */
export interface Example {
  readonly name: string;
  readonly summary: string;
  readonly key: string;
  readonly value: unknown;
}

export interface PipelineModel {
  readonly topics: readonly TopicFacts[];
  readonly topicPartitionsDefault: number;
  readonly replicationDefault: number;
  /** Examples per topic that carries a record. */
  readonly examples: Readonly<Record<string, readonly Example[]>>;
  /** Per dead-letter topic, the headers of an example dead letter. */
  readonly deadLetterExamples: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The values `churn.error.kind` takes. */
  readonly deadLetterKinds: readonly string[];
}

/** Policy features that add topics. */
export const POLICY_FEATURES = {
  learning: { on: { learning: { enabled: true } }, off: { learning: { enabled: false } }, setting: 'learning.enabled' },
  shadow: { on: { shadow: { overrides: { version: 'shadow' } } }, off: { shadow: null }, setting: 'shadow' },
} as const;
export type PolicyFeature = keyof typeof POLICY_FEATURES;
const FEATURES = Object.keys(POLICY_FEATURES) as PolicyFeature[];

/** The default policy with the given features on and the others off. */
export function policyWith(features: readonly PolicyFeature[]): Policy {
  let doc: unknown = defaultPolicyDocument;
  for (const f of FEATURES)
    doc = mergeDocuments(doc, features.includes(f) ? POLICY_FEATURES[f].on : POLICY_FEATURES[f].off);
  return loadPolicy(doc);
}

const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as unknown as Logger;

interface SimulatedTopic {
  partitions: number;
  replicationFactor: number;
  config: Record<string, string>;
}

/** An empty cluster that remembers what was created: enough of kafkajs' Admin for topic preparation. */
function simulatedCluster(): { admin: Admin; topics: Map<string, SimulatedTopic> } {
  const topics = new Map<string, SimulatedTopic>();
  const admin = {
    listTopics: async () => [...topics.keys()],
    fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => ({
      topics: names.map((name) => {
        const t = topics.get(name);
        if (!t) throw new Error(`simulated cluster: no topic ${name}`);
        return {
          name,
          partitions: Array.from({ length: t.partitions }, (_, i) => ({ partitionId: i, leader: 0 })),
        };
      }),
    }),
    createTopics: async ({
      topics: created,
    }: {
      topics: {
        topic: string;
        numPartitions: number;
        replicationFactor: number;
        configEntries?: { name: string; value: string }[];
      }[];
    }) => {
      for (const t of created) {
        topics.set(t.topic, {
          partitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          config: Object.fromEntries((t.configEntries ?? []).map((e) => [e.name, e.value])),
        });
      }
      return true;
    },
  };
  return { admin: admin as unknown as Admin, topics };
}

interface Observed {
  topics: Map<string, SimulatedTopic>;
  readers: Map<string, TopologyUse[]>;
  writers: Map<string, TopologyUse[]>;
  changelogs: Map<string, Topology<unknown>>;
  deadLetters: Map<string, string>;
  internal: Map<string, RecordName>;
}

/** Prepares every topology of a shape, in the order events flow, on an empty cluster. */
async function deploy(shape: Shape, policy: Policy, partitions: number, replicationFactor: number): Promise<Observed> {
  const cluster = simulatedCluster();
  const seen: Observed = {
    topics: cluster.topics,
    readers: new Map(),
    writers: new Map(),
    changelogs: new Map(),
    deadLetters: new Map(),
    internal: new Map(),
  };
  const add = (into: Map<string, TopologyUse[]>, topic: string, use: TopologyUse) => {
    const uses = into.get(topic) ?? [];
    if (!uses.some((u) => u.topology === use.topology)) uses.push(use);
    into.set(topic, uses);
  };
  const metrics = new PipelineMetrics({ defaultMetrics: false });
  for (const service of servicesOf(policy, shape)) {
    for (const topology of service.topologies) {
      // The runner names the consumer group and the changelog; nothing connects.
      const runner = new KafkaRunner({
        topology,
        kafka: {} as Kafka,
        serde: {} as never,
        logger: quiet,
        metrics,
        instanceId: 'asyncapi',
        partitions,
        replicationFactor,
      });
      await prepareTopologyTopics(cluster.admin, topology, runner.changelog, {
        partitions,
        replicationFactor,
        log: quiet,
      });
      const use: TopologyUse = { shape, topology: topology.name, group: runner.groupId };
      for (const t of topology.inputs) {
        add(seen.readers, t, use);
        add(seen.writers, deadLetterTopicOf(t), use);
        seen.deadLetters.set(deadLetterTopicOf(t), t);
      }
      for (const t of topology.outputs) add(seen.writers, t, use);
      add(seen.readers, runner.changelog, use);
      add(seen.writers, runner.changelog, use);
      seen.changelogs.set(runner.changelog, topology);
      for (const t of topology.internalTopics ?? []) seen.internal.set(t.topic, t.record);
    }
  }
  return seen;
}

/**
 * Every topic the pipeline uses, in every deployment shape, with every policy feature
 * that adds topics, as its own topic preparation creates them.
 */
export async function describeTopics(): Promise<{
  topics: TopicFacts[];
  topicPartitionsDefault: number;
  replicationDefault: number;
}> {
  const topicPartitionsDefault = kafkaServiceEnv.TOPIC_PARTITIONS.parse(undefined) as number;
  const replicationDefault = kafkaServiceEnv.TOPIC_REPLICATION_FACTOR.parse(undefined) as number;
  // Any other count tells the topics whose count follows TOPIC_PARTITIONS from the fixed ones.
  const otherPartitions = topicPartitionsDefault + 4;
  const full = policyWith(FEATURES);
  const byShape = new Map<Shape, Observed>();
  const other = new Map<Shape, Observed>();
  /** Per topic, the features without which it is not used in any shape. */
  const without = new Map<PolicyFeature, Set<string>>();
  for (const shape of SHAPES) {
    byShape.set(shape, await deploy(shape, full, topicPartitionsDefault, replicationDefault));
    other.set(shape, await deploy(shape, full, otherPartitions, replicationDefault));
  }
  for (const f of FEATURES) {
    const used = new Set<string>();
    for (const shape of SHAPES) {
      const seen = await deploy(
        shape,
        policyWith(FEATURES.filter((g) => g !== f)),
        topicPartitionsDefault,
        replicationDefault,
      );
      for (const t of seen.topics.keys()) used.add(t);
    }
    without.set(f, used);
  }

  const catalogue = new Map<string, TopicEntry>(topicCatalogue.map((t) => [t.topic, t]));
  const names = new Set<string>();
  for (const seen of byShape.values()) for (const t of seen.topics.keys()) names.add(t);
  const missing = topicCatalogue.filter((t) => !names.has(t.topic)).map((t) => t.topic);
  if (missing.length > 0) throw new Error(`asyncapi: no topology uses the catalogue topics ${missing.join(', ')}`);

  const facts: TopicFacts[] = [];
  for (const topic of names) {
    const shapes = SHAPES.filter((s) => byShape.get(s)?.topics.has(topic));
    const first = byShape.get(shapes[0] as Shape) as Observed;
    const created = first.topics.get(topic) as SimulatedTopic;
    for (const s of shapes) {
      const again = byShape.get(s)?.topics.get(topic) as SimulatedTopic;
      if (JSON.stringify(again) !== JSON.stringify(created))
        throw new Error(`asyncapi: ${topic} is created differently in the ${shapes[0]} and ${s} shapes`);
    }
    const otherCount = other.get(shapes[0] as Shape)?.topics.get(topic)?.partitions;
    const entry = catalogue.get(topic);
    const internalRecord = first.internal.get(topic);
    const source = first.deadLetters.get(topic) ?? null;
    const changelog = first.changelogs.get(topic);
    const kind: ChannelKind = entry
      ? entry.role
      : internalRecord
        ? 'internal'
        : changelog
          ? 'changelog'
          : source !== null
            ? 'dead-letter'
            : fail(`${topic} is neither in the catalogue nor internal, a changelog or a dead-letter topic`);
    const keyOfTopic = (t: string): KeyKind => {
      const record = catalogue.get(t)?.record;
      if (record !== undefined) return customerIdNullable(record) ? 'customerIdOrReason' : 'customerId';
      const k = INTERNAL_KEYS[t];
      if (k === undefined) return fail(`internal topic ${t} has no key kind (INTERNAL_KEYS)`);
      return k;
    };
    const collect = (pick: (o: Observed) => Map<string, TopologyUse[]>) =>
      SHAPES.flatMap((s) => pick(byShape.get(s) as Observed).get(topic) ?? []);
    facts.push({
      topic,
      kind,
      record: entry?.record ?? internalRecord ?? null,
      key: changelog ? keyOfTopic(changelog.inputs[0] as string) : keyOfTopic(source ?? topic),
      partitions: created.partitions,
      followsTopicPartitions: otherCount !== created.partitions,
      replicas: created.replicationFactor,
      config: created.config,
      readers: collect((o) => o.readers),
      writers: collect((o) => o.writers),
      shapes,
      requires: FEATURES.filter((f) => !without.get(f)?.has(topic)),
      source,
      stateCodec: changelog ? (changelog.stateCodec ? 'custom' : 'json') : null,
    });
  }
  const catalogueOrder = topicCatalogue.map((t) => t.topic as string);
  const rank = (t: TopicFacts) => {
    const base = t.source ?? t.topic;
    const i = catalogueOrder.indexOf(base);
    return i >= 0 ? i : catalogueOrder.length;
  };
  const kindOrder: ChannelKind[] = ['input', 'output', 'internal', 'changelog', 'dead-letter'];
  facts.sort(
    (a, b) =>
      kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) ||
      rank(a) - rank(b) ||
      (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0),
  );
  return { topics: facts, topicPartitionsDefault, replicationDefault };
}

/** Whether a record's customerId may be null (then the record is keyed otherwise: by reason). */
function customerIdNullable(record: RecordName): boolean {
  const fields = (avroSchemas[record] as { fields: { name: string; type: unknown }[] }).fields;
  const type = fields.find((f) => f.name === 'customerId')?.type ?? fail(`${record} has no customerId`);
  return Array.isArray(type) && type.includes('null');
}

function fail(message: string): never {
  throw new Error(`asyncapi: ${message}`);
}

/** Keys of the internal topics, which are not keyed by customerId (the runner checks none of them). */
const INTERNAL_KEYS: Readonly<Record<string, KeyKind>> = {
  [BY_REASON_TOPIC]: 'reason',
  [LEARNING_EVENTS_TOPIC]: 'learning',
  [LEARNING_SNAPSHOTS_TOPIC]: 'learning',
};

// ------------------------------------------------------------------ examples

const exampleId = (what: string) => deriveId('asyncapi-example', what);

function keyed(name: string, summary: string, value: unknown, key?: string): Example {
  const k = key ?? customerIdOf(value);
  if (k === null) fail(`example ${name} has no customerId and no key`);
  return { name, summary, key: k, value };
}

/** Example records of every topic that carries one, from the fixture builders and the processors. */
export function exampleRecords(policy: Policy): Record<string, Example[]> {
  const profile = aCustomerProfile({ eventId: exampleId('profile') });
  const invoice = anInvoice({ eventId: exampleId('invoice') });
  const cancellation = aCancellation({ eventId: exampleId('cancellation') });
  const survey = aSurveyResult({ eventId: exampleId('survey') });
  const outcome = aTaskOutcome({ eventId: exampleId('task-outcome') });
  const value = aCustomerValue({ eventId: exampleId('customer-value'), causationId: invoice.eventId });
  const decision = aChurnDecision({
    eventId: exampleId('decision'),
    causationId: cancellation.eventId,
    cancellationId: cancellation.cancellationId,
    value,
  });
  const shadow = aChurnDecision({
    eventId: exampleId('shadow-decision'),
    causationId: cancellation.eventId,
    cancellationId: cancellation.cancellationId,
    policyVersion: 'shadow',
    value,
  });
  const task = aContactTask({ eventId: exampleId('task'), causationId: cancellation.eventId });
  const alert = aChurnAlert({ eventId: exampleId('alert'), causationId: cancellation.eventId });

  // Structural: decided cancellations re-keyed by reason, counted until an alert goes out.
  const reason = [...policy.tables.structuralReasons][0] ?? fail('the policy has no structural reason');
  const decided = Array.from({ length: policy.structural.minCustomers }, (_, i) => {
    const customer = `cust-${String(i + 1).padStart(4, '0')}`;
    const cause = aCancellation({
      eventId: exampleId(`structural-cancellation-${i}`),
      customerId: customer,
      cancellationId: `canc-${String(i + 1).padStart(4, '0')}`,
      occurredAt: FIXTURE_NOW + i * 3_600_000,
      reason,
    });
    return aChurnDecision({
      eventId: exampleId(`structural-decision-${i}`),
      occurredAt: cause.occurredAt,
      customerId: customer,
      cancellationId: cause.cancellationId,
      causationId: cause.eventId,
      reason,
      value: aCustomerValue({ eventId: exampleId(`structural-value-${i}`), customerId: customer }),
    });
  });
  const routed = decided.map((d) => structuralCancellationOf(d, policy) ?? fail('a structural decision is not routed'));
  const midnight = Math.floor(FIXTURE_NOW / DAY) * DAY + DAY;
  const structural = structuralIssuesTopology(policy);
  const marks = structuralMarksOf(policy, midnight).filter((m) => m.key === reason);
  let state: unknown;
  const structuralAlerts: OutputRecord[] = [];
  for (const record of [...routed, ...marks]) {
    const step = structural.process(record, state as never, (record.value as { occurredAt: number }).occurredAt);
    state = step.state;
    structuralAlerts.push(...step.emit.filter((r) => r.topic === 'churn.alerts.v1'));
  }
  const structuralAlert = structuralAlerts[0] ?? fail('the structural count sent no alert');
  const mark = learningMark(0, 3, midnight);

  return {
    'customer.profiles.v1': [keyed('profile', 'A business customer signed up.', profile)],
    'billing.invoices.v1': [keyed('invoice', 'An invoice was issued.', invoice)],
    'customer.cancellations.v1': [
      keyed('cancellation', 'A customer asks to cancel because of the price.', cancellation),
    ],
    'customer.surveys.v1': [keyed('survey', 'An NPS survey was answered.', survey)],
    'contact-center.task-outcomes.v1': [keyed('task-outcome', 'A retention call kept the customer.', outcome)],
    'churn.customer-value.v1': [keyed('customer-value', "The customer's value after an invoice.", value)],
    'churn.decisions.v1': [keyed('decision', 'A win-back with a downgrade offer.', decision)],
    'churn.decisions.shadow.v1': [
      keyed('shadow-decision', "A shadow policy's decision on the same cancellation.", shadow),
    ],
    'contact-center.tasks.v1': [keyed('task', 'A retention call for the account manager.', task)],
    'churn.alerts.v1': [
      keyed('alert', 'A tier A customer asked to cancel.', alert),
      keyed(
        'structural-issue',
        `A STRUCTURAL_ISSUE alert: keyed by the reason, with no customerId.`,
        structuralAlert.value,
        structuralAlert.key,
      ),
    ],
    [BY_REASON_TOPIC]: [
      keyed(
        'structural-cancellation',
        'A decided cancellation re-keyed by its reason.',
        routed[0]?.value,
        routed[0]?.key,
      ),
      keyed('watermark', 'A watermark: source partition 0 of 1 has passed midnight.', marks[0]?.value, marks[0]?.key),
    ],
    [LEARNING_EVENTS_TOPIC]: [
      keyed('learning-mark', 'A watermark: decision partition 0 of 3 has passed midnight.', mark.value, mark.key),
    ],
    [LEARNING_SNAPSHOTS_TOPIC]: [
      keyed('learning-snapshot', "Partition 0's learning snapshot of a midnight.", aLearningSnapshot(), LEARNING_KEY),
    ],
  };
}

/** The route's watermarks at a midnight, for a source of one partition. */
function structuralMarksOf(policy: Policy, at: number): OutputRecord[] {
  const decisions = topicCatalogue.find((t) => t.record === 'ChurnDecision')?.topic as string;
  // The route topology sends them at each midnight a partition passes.
  const route = servicesOf(policy, 'services')
    .flatMap((s) => s.topologies)
    .find((t) => t.inputs.includes(decisions) && t.outputs.includes(BY_REASON_TOPIC));
  return route?.onClock?.(0, 1, at).slice() ?? fail('no topology routes decisions by reason');
}

/** The headers of an example dead letter of each dead-letter topic, as the runner writes them. */
function deadLetterHeaders(topics: readonly TopicFacts[], examples: Record<string, Example[]>) {
  const out: Record<string, Record<string, string>> = {};
  for (const t of topics) {
    if (t.kind !== 'dead-letter' || t.source === null) continue;
    const record = topics.find((s) => s.topic === t.source)?.record ?? null;
    const example = examples[t.source]?.[0];
    const reader = t.writers[0] ?? fail(`nobody writes ${t.topic}`);
    const dead = deadLetterOf(
      {
        topic: t.source,
        partition: 0,
        offset: '42',
        key: Buffer.from(example?.key ?? 'cust-0001'),
        value: null,
        headers: undefined,
      },
      example && record
        ? new ContractViolation(record, [{ path: 'eventId', message: 'Invalid UUID' }])
        : new ChurnError('CHURN_WIRE_FORMAT', 'record value is not in the Confluent wire format'),
      reader.topology,
      1,
      new Date(FIXTURE_NOW),
    );
    if (dead.topic !== t.topic) fail(`the dead letter of ${t.source} goes to ${dead.topic}, not ${t.topic}`);
    out[t.topic] = Object.fromEntries(Object.entries(dead.message.headers ?? {}).map(([k, v]) => [k, String(v)]));
  }
  return out;
}

/** Everything the document says, from the code. */
export async function describePipeline(): Promise<PipelineModel> {
  const { topics, topicPartitionsDefault, replicationDefault } = await describeTopics();
  const examples = exampleRecords(policyWith(FEATURES));
  const kinds = [new ChurnError('CHURN_AVRO_DECODE', 'x'), new ContractViolation('record', []), new Error('x')].map(
    (e) => classify(e).kind,
  );
  return {
    topics,
    topicPartitionsDefault,
    replicationDefault,
    examples,
    deadLetterExamples: deadLetterHeaders(topics, examples),
    deadLetterKinds: [...new Set(kinds)],
  };
}

// ------------------------------------------------------------------ the document

export const AVRO_FORMAT = 'application/vnd.apache.avro+json;version=1.9.0';
const KAFKA_BINDING = '0.5.0';
const LOCAL_KAFKA = '127.0.0.1:19092';
const LOCAL_REGISTRY = 'http://127.0.0.1:18081/apis/ccompat/v7';

type Doc = Record<string, unknown>;

/** A channel's id: the topic in camel case (`customer.profiles.v1` is `customerProfilesV1`). */
export function channelIdOf(topic: string): string {
  const words = topic.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
}

const HEADER_MEANINGS: Readonly<Record<keyof typeof DLQ_HEADERS, string>> = {
  kind: 'Why the record was refused.',
  code: 'The error code, e.g. CHURN_KEY_MISMATCH or CHURN_UNKNOWN_CUSTOMER.',
  message: 'What went wrong (at most 2000 characters).',
  topic: 'The topic the record was read from.',
  partition: 'The partition it was read from.',
  offset: 'Its offset there.',
  service: 'The service (topology) that refused it.',
  failedAt: 'When, as an ISO 8601 time.',
  attempts: 'How many times it was tried.',
};

function deadLetterHeadersSchema(kinds: readonly string[]): Doc {
  const properties: Record<string, Doc> = {};
  for (const [k, name] of Object.entries(DLQ_HEADERS) as [keyof typeof DLQ_HEADERS, string][]) {
    const meaning = HEADER_MEANINGS[k] ?? fail(`no meaning for the dead-letter header ${name}`);
    properties[name] = {
      type: 'string',
      description: meaning,
      ...(k === 'kind' ? { enum: [...kinds] } : {}),
      ...(k === 'partition' || k === 'offset' || k === 'attempts' ? { pattern: '^[0-9]+$' } : {}),
      ...(k === 'failedAt' ? { format: 'date-time' } : {}),
    };
  }
  return {
    type: 'object',
    description:
      "Headers of a dead letter: the original record's headers, kept as they were, and these, which say why.",
    required: Object.values(DLQ_HEADERS),
    properties,
    additionalProperties: { type: 'string', description: 'A header of the original record.' },
  };
}

function keySchema(kind: KeyKind, examples: readonly string[], schemas: Readonly<Record<string, object>>): Doc {
  const customer = "The record's customerId, as a UTF-8 string: all of one customer's records share a partition.";
  const base: Doc =
    kind === 'customerId'
      ? { type: 'string', minLength: 1, description: customer }
      : kind === 'customerIdOrReason'
        ? {
            type: 'string',
            minLength: 1,
            description: `${customer} A record without a customerId (a STRUCTURAL_ISSUE alert) is keyed by its cancellation reason.`,
          }
        : kind === 'reason'
          ? {
              type: 'string',
              enum: enumSymbols(schemas, 'CancellationRequested', 'reason'),
              description: 'The cancellation reason, as a UTF-8 string: one state per reason.',
            }
          : {
              type: 'string',
              enum: [LEARNING_KEY],
              description: 'The learning stage keeps one state, under this key.',
            };
  return examples.length > 0 ? { ...base, examples: [...new Set(examples)] } : base;
}

/** The symbols of an enum field of a record's schema. */
function enumSymbols(schemas: Readonly<Record<string, object>>, record: string, field: string): string[] {
  const fields = (schemas[record] as { fields?: { name: string; type: unknown }[] } | undefined)?.fields ?? [];
  const type = fields.find((f) => f.name === field)?.type as { symbols?: string[] } | undefined;
  return type?.symbols ?? fail(`${record}.${field} is not an enum`);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function avroDoc(schemas: Readonly<Record<string, object>>, record: string): string {
  const doc = (schemas[record] as { doc?: unknown }).doc;
  return typeof doc === 'string' ? doc : record;
}

function usesText(uses: readonly TopologyUse[]): string {
  return SHAPES.map((shape) => {
    const names = uses.filter((u) => u.shape === shape).map((u) => `\`${u.topology}\``);
    return names.length > 0 ? `${names.join(', ')} (${shape} shape)` : '';
  })
    .filter(Boolean)
    .join('; ');
}

interface OperationWords {
  readonly uses: 'readers' | 'writers';
  readonly title: string;
  readonly does: string;
  readonly by: string;
}

/** The pipeline's operations on a topic, by AsyncAPI action: who does them, and how the document says so. */
const OPERATIONS = {
  receive: { uses: 'readers', title: 'Read', does: 'reads', by: 'Read by' },
  send: { uses: 'writers', title: 'Write', does: 'writes', by: 'Written by' },
} as const satisfies Record<string, OperationWords>;

function topicDescription(t: TopicFacts, model: PipelineModel): string {
  const lines: string[] = [];
  if (t.kind === 'input') lines.push('Operations produce it; the pipeline reads it.');
  if (t.kind === 'output')
    lines.push('The pipeline writes it for contact-center systems, dashboards and other readers.');
  if (t.kind === 'internal')
    lines.push('Internal: the pipeline writes and reads it itself; it is not part of the public interface.');
  if (t.kind === 'changelog') {
    const owner = t.writers[0] as TopologyUse;
    lines.push(
      `Internal: the state changelog of \`${owner.topology}\` (consumer group \`${owner.group}\`). ` +
        "Partition p holds the state of the topology's input partition p; a key whose state is gone gets a tombstone.",
    );
  }
  if (t.kind === 'dead-letter')
    lines.push(
      `Dead letters of \`${t.source}\`: records that could not be decoded, broke their contract (their key included), ` +
        'were too large or kept failing, with their original key, value and headers, and headers that say why. ' +
        '`churnctl dlq replay` puts them back on the source topic.',
    );
  for (const o of Object.values(OPERATIONS)) if (t[o.uses].length > 0) lines.push(`${o.by} ${usesText(t[o.uses])}.`);
  if (t.requires.length > 0)
    lines.push(
      `Only used when the policy sets ${t.requires.map((f) => `\`${POLICY_FEATURES[f].setting}\``).join(' and ')}.`,
    );
  lines.push(
    t.followsTopicPartitions
      ? `Created when missing with TOPIC_PARTITIONS partitions (default ${model.topicPartitionsDefault})` +
          (t.kind === 'internal' || t.kind === 'changelog' || t.kind === 'dead-letter'
            ? ', as many as the topics it is partitioned with.'
            : '.')
      : `Created when missing with ${t.partitions} partition${t.partitions === 1 ? '' : 's'}, whatever TOPIC_PARTITIONS says.`,
  );
  return lines.join('\n');
}

function topicConfiguration(config: Readonly<Record<string, string>>): Doc {
  const out: Doc = { 'cleanup.policy': (config['cleanup.policy'] ?? 'delete').split(',') };
  for (const [name, value] of Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name === 'cleanup.policy') continue;
    out[name] = /^-?[0-9]+$/.test(value) ? Number(value) : value;
  }
  return out;
}

const TAGS = {
  input: 'Read by the pipeline; produced by operations.',
  output: 'Written by the pipeline for its readers.',
  internal: 'Not part of the public interface: the pipeline writes and reads it itself.',
  changelog: "A service's state, compacted.",
  'dead-letter': 'Records the pipeline refused, with why in headers.',
} as const;

/** The AsyncAPI document, as a plain object with its keys in a fixed order. */
export function asyncApiDocument(
  model: PipelineModel,
  schemas: Readonly<Record<string, object>>,
  info: { version: string; license: string },
): Doc {
  const channels: Record<string, Doc> = {};
  const operations: Record<string, Doc> = {};
  const records = new Set<string>();
  const ids = new Set<string>();
  for (const t of model.topics) {
    const id = channelIdOf(t.topic);
    if (ids.has(id)) fail(`two topics have the channel id ${id}`);
    ids.add(id);
    const internal = t.kind !== 'input' && t.kind !== 'output';
    // Changelogs and dead-letter topics carry no record, so no examples.
    const examples = t.record === null ? [] : (model.examples[t.topic] ?? []);
    if (t.record !== null && examples.length === 0) fail(`no example for ${t.topic}`);
    let messageId: string;
    let message: Doc;
    if (t.kind === 'dead-letter') {
      const source = model.topics.find((s) => s.topic === t.source);
      const record = source?.record ?? null;
      messageId = 'DeadLetter';
      message = {
        name: 'DeadLetter',
        title: `Dead letter of ${t.source}`,
        summary: `A record of ${t.source} the pipeline refused, as it was read, with why in headers.`,
        headers: { $ref: '#/components/schemas/DeadLetterHeaders' },
        payload: {
          type: ['string', 'null'],
          format: 'binary',
          description:
            `The original value bytes${record ? `: a ${record} in the Confluent wire format when it was one` : ''}, ` +
            'or whatever bytes could not be decoded.',
        },
        bindings: {
          kafka: {
            key: {
              type: ['string', 'null'],
              description: `The original key, as read (null when the record had none). On ${t.source}: ${lowerFirst(String(keySchema(t.key, [], schemas).description))}`,
            },
            bindingVersion: KAFKA_BINDING,
          },
        },
        examples: [
          {
            name: 'contract-violation',
            summary: `A record of ${t.source} that broke its contract; the original value is not shown.`,
            headers: model.deadLetterExamples[t.topic] ?? fail(`no dead-letter example for ${t.topic}`),
          },
        ],
      };
    } else if (t.kind === 'changelog') {
      messageId = 'State';
      const json = t.stateCodec === 'json';
      message = {
        name: 'State',
        title: `State of ${t.writers[0]?.topology}`,
        summary: 'The state of one key, written in the transaction that changed it.',
        contentType: json ? 'application/json' : 'application/octet-stream',
        payload: json
          ? {
              type: ['object', 'null'],
              description: "The key's state as JSON text; null (a tombstone) when it is gone.",
            }
          : {
              type: ['string', 'null'],
              format: 'binary',
              description:
                "The key's state in the topology's own codec (the engine: a two-byte header, 0xE5 and the version of " +
                'services/engine/state/engine-state.v<n>.avsc, then Avro binary); null (a tombstone) when it is gone.',
            },
        bindings: { kafka: { key: keySchema(t.key, [], schemas), bindingVersion: KAFKA_BINDING } },
      };
    } else {
      const record = t.record as string;
      records.add(record);
      messageId = record;
      message = {
        name: record,
        title: record,
        summary: avroDoc(schemas, record),
        description:
          `Avro in the Confluent wire format (magic byte 0, the 4-byte schema id, the Avro binary); ` +
          `the schema is registered under the subject \`${subjectOf(t.topic)}\`.`,
        payload: { $ref: `#/components/schemas/${record}` },
        bindings: {
          kafka: {
            key: keySchema(
              t.key,
              examples.map((e) => e.key),
              schemas,
            ),
            schemaIdLocation: 'payload',
            schemaIdPayloadEncoding: 'confluent',
            schemaLookupStrategy: 'TopicNameStrategy',
            bindingVersion: KAFKA_BINDING,
          },
        },
        examples: examples.map((e) => ({ name: e.name, summary: `${e.summary} Key: ${e.key}.`, payload: e.value })),
      };
    }
    channels[id] = {
      address: t.topic,
      title: t.topic,
      summary: t.record !== null ? `${t.record} records.` : (message.summary as string),
      description: topicDescription(t, model),
      messages: { [messageId]: message },
      tags: [t.kind, ...(internal && t.kind !== 'internal' ? ['internal'] : [])].map((name) => ({ name })),
      bindings: {
        kafka: {
          partitions: t.partitions,
          replicas: t.replicas,
          topicConfiguration: topicConfiguration(t.config),
          bindingVersion: KAFKA_BINDING,
        },
      },
      'x-churn-internal': internal,
      'x-churn-kind': t.kind,
      'x-churn-key': t.key,
      'x-churn-partitions-follow-topic-partitions': t.followsTopicPartitions,
      'x-churn-shapes': [...t.shapes],
      ...(t.requires.length > 0
        ? { 'x-churn-policy-requires': t.requires.map((f) => POLICY_FEATURES[f].setting) }
        : {}),
      ...(t.source !== null ? { 'x-churn-dead-letter-of': t.source } : {}),
    };
    const ref = { $ref: `#/channels/${id}` };
    const messageRef = { $ref: `#/channels/${id}/messages/${messageId}` };
    const cap = id.charAt(0).toUpperCase() + id.slice(1);
    for (const [action, o] of Object.entries(OPERATIONS) as [keyof typeof OPERATIONS, OperationWords][]) {
      const uses = t[o.uses];
      if (uses.length === 0) continue;
      operations[`${action}${cap}`] = {
        action,
        channel: ref,
        title: `${o.title} ${t.topic}`,
        summary: `The pipeline ${o.does} ${t.topic}.`,
        description: `${o.by} ${usesText(uses)}.`,
        messages: [messageRef],
        // A reader reads in a consumer group.
        ...(action === 'receive'
          ? {
              bindings: {
                kafka: {
                  groupId: { type: 'string', enum: [...new Set(uses.map((u) => u.group))] },
                  bindingVersion: KAFKA_BINDING,
                },
              },
            }
          : {}),
      };
    }
  }

  const componentSchemas: Record<string, Doc> = {};
  for (const record of [...records].sort()) {
    const schema = schemas[record] ?? fail(`no Avro schema for ${record}`);
    componentSchemas[record] = { schemaFormat: AVRO_FORMAT, schema };
  }
  componentSchemas.DeadLetterHeaders = deadLetterHeadersSchema(model.deadLetterKinds);

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Churn pipeline',
      version: info.version,
      description: [
        'Event-driven churn handling on Apache Kafka: customer value, win-back or graceful offboarding decisions,',
        'contact tasks and alerts. The public interface is the topics tagged `input` and `output` (the topic',
        'catalogue, `schemas/topics.json`); the others are internal (`x-churn-internal: true`, tag `internal`).',
        '',
        "- Keys: every record on a customer-scoped topic is keyed by its customerId (UTF-8); each message's",
        '  Kafka binding gives its key.',
        '- Values: Avro in the Confluent wire format; each schema is registered in a Confluent-compatible schema',
        '  registry under `<topic>-value`, compatibility BACKWARD.',
        '- Dead letters: a record the pipeline refuses goes to `<topic>.dlq` with its original bytes and',
        '  headers saying why.',
        '',
        'Generated from `schemas/` and the code by `npm run contracts:generate`; see docs/contracts.md.',
      ].join('\n'),
      license: { name: info.license, url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    },
    defaultContentType: 'application/octet-stream',
    servers: {
      local: {
        host: LOCAL_KAFKA,
        protocol: 'kafka',
        title: 'Local Kafka',
        summary: 'The local broker of `npm run infra:up` or `docker compose up`.',
        description:
          `The schema registry is at ${LOCAL_REGISTRY} (Apicurio's Confluent-compatible API, \`npm run infra:up\`) ` +
          'or http://127.0.0.1:18081 (Confluent Schema Registry, `docker compose up`).',
        bindings: {
          kafka: {
            schemaRegistryUrl: LOCAL_REGISTRY,
            schemaRegistryVendor: 'confluent',
            bindingVersion: KAFKA_BINDING,
          },
        },
      },
    },
    channels,
    operations,
    components: { schemas: componentSchemas },
  };
}

const YAML_HEADER =
  '# Generated by packages/contracts/scripts/generate.ts (npm run contracts:generate) from schemas/\n' +
  '# and the pipeline code. Do not edit: npm run contracts:check fails when it is stale.\n';

export function asyncApiYaml(doc: Doc): string {
  return YAML_HEADER + stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/**
 * docs/asyncapi.yaml and docs/asyncapi.html, by file name. `schemas` defaults to the
 * generated self-contained schemas; the root package's version and license fill `info`.
 */
export async function renderAsyncApi(
  options: { schemas?: Readonly<Record<string, object>> } = {},
): Promise<Record<string, string>> {
  const model = await describePipeline();
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
    license: string;
  };
  const doc = asyncApiDocument(model, options.schemas ?? avroSchemas, { version: pkg.version, license: pkg.license });
  return { 'asyncapi.yaml': asyncApiYaml(doc), 'asyncapi.html': renderAsyncApiHtml(doc) };
}
