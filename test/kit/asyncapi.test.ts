/**
 * docs/asyncapi.yaml: a valid AsyncAPI 3.0.0 document (the AsyncAPI parser, with the Avro
 * schema parser for the payloads), with a channel for every topic of schemas/topics.json
 * and every internal, changelog and dead-letter topic the pipeline's topologies use, each
 * Avro payload its record's .avsc, examples the schemas and contracts accept, and the
 * text the generator writes now (docs/asyncapi.html too), which changes with a schema.
 */

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AvroSchemaParser } from '@asyncapi/avro-schema-parser';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { SHAPES, servicesOf } from '@churn/cli';
import { avroSchemas, deadLetterTopicOf, type RecordName, subjectOf, validateRecord } from '@churn/contracts';
import { loadPolicy, mergeDocuments } from '@churn/domain';
import { defaultPolicyDocument } from '@churn/domain/testing';
import { DLQ_HEADERS, KafkaRunner, kafkaServiceEnv, type Logger, PipelineMetrics, type Topology } from '@churn/runtime';
import avro from 'avsc';
import type { Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderAsyncApi } from '../../packages/contracts/scripts/asyncapi.ts';
import { read, root } from './repo.ts';

const AVRO = 'application/vnd.apache.avro+json;version=1.9.0';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const yamlText = read('docs/asyncapi.yaml');
const doc = parse(yamlText) as JsonObject;
const channels = doc.channels as Record<string, JsonObject>;
const operations = doc.operations as Record<string, JsonObject>;

/** The object a local `$ref` points to, or the object itself. */
function deref(node: Json): JsonObject {
  if (node !== null && typeof node === 'object' && !Array.isArray(node) && typeof node.$ref === 'string') {
    return node.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<Json>((at, part) => (at as JsonObject)[part] as Json, doc) as JsonObject;
  }
  return node as JsonObject;
}

function channelOf(topic: string): { id: string; channel: JsonObject; message: JsonObject } {
  const found = Object.entries(channels).find(([, c]) => c.address === topic);
  if (!found) throw new Error(`no channel for ${topic}`);
  const messages = Object.values(found[1].messages as Record<string, JsonObject>);
  expect(messages, topic).toHaveLength(1);
  return { id: found[0], channel: found[1], message: messages[0] as JsonObject };
}

const kafkaOf = (node: JsonObject) => (node.bindings as JsonObject).kafka as JsonObject;
const tagsOf = (channel: JsonObject) => (channel.tags as JsonObject[]).map((t) => t.name);

// ------------------------------------------------------------------ the sources of truth

const catalogue = (JSON.parse(read('schemas/topics.json')) as { topics: TopicEntry[] }).topics;
interface TopicEntry {
  topic: string;
  record: string;
  role: 'input' | 'output';
  compacted: boolean;
}

/** Every schema file, by its type's short name. */
const avsc = new Map<string, JsonObject>(
  ['schemas', 'schemas/types'].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.avsc'))
      .map((f) => [f.replace(/\.avsc$/, ''), JSON.parse(read(`${dir}/${f}`)) as JsonObject] as const),
  ),
);

/** The policy settings that add topics, each as on and off. */
const FEATURES = {
  'learning.enabled': [{ learning: { enabled: true } }, { learning: { enabled: false } }],
  shadow: [{ shadow: { overrides: { version: 'shadow' } } }, { shadow: null }],
} as const;
/** The default policy with every feature on but `off`. */
const policyWithout = (off?: keyof typeof FEATURES) =>
  loadPolicy(
    Object.entries(FEATURES).reduce<unknown>(
      (policy, [name, [on, no]]) => mergeDocuments(policy, name === off ? no : on),
      defaultPolicyDocument,
    ),
  );
/** A policy with every feature that adds topics: learning and a shadow policy. */
const everything = policyWithout();
const quiet = { info: () => {}, warn: () => {}, error: () => {} } as unknown as Logger;
const metrics = new PipelineMetrics({ defaultMetrics: false });
const topologies: Topology<unknown>[] = SHAPES.flatMap((shape) =>
  servicesOf(everything, shape).flatMap((s) => s.topologies),
);
const runnerOf = (topology: Topology<unknown>) =>
  new KafkaRunner({ topology, kafka: {} as Kafka, serde: {} as never, logger: quiet, metrics, instanceId: 't' });
const changelogOf = (topology: Topology<unknown>) => runnerOf(topology).changelog;
/** Every topic the topologies of a policy use, in either shape. */
const topicsOf = (policy: typeof everything) =>
  new Set(
    SHAPES.flatMap((shape) => servicesOf(policy, shape).flatMap((s) => s.topologies)).flatMap((t) => [
      ...t.inputs,
      ...t.inputs.map(deadLetterTopicOf),
      ...t.outputs,
      ...(t.internalTopics ?? []).map((i) => i.topic),
      changelogOf(t),
    ]),
  );
const defaultPartitions = kafkaServiceEnv.TOPIC_PARTITIONS.parse(undefined) as number;
const inCatalogue = new Set(catalogue.map((t) => t.topic));
const internalTopics = new Map(topologies.flatMap((t) => t.internalTopics ?? []).map((t) => [t.topic, t]));
const deadLetterTopics = new Map(topologies.flatMap((t) => t.inputs.map((i) => [deadLetterTopicOf(i), i] as const)));
const changelogs = new Map(topologies.map((t) => [changelogOf(t), t]));
const read_ = new Set(topologies.flatMap((t) => t.inputs));
const written = new Set(topologies.flatMap((t) => t.outputs));

/** Partitions of a topic as the code says: the catalogue's and co-partitioned ones TOPIC_PARTITIONS', else fixed. */
function partitionsOf(topic: string): number {
  const internal = internalTopics.get(topic);
  if (internal) return internal.partitions === 'co-partitioned' ? defaultPartitions : internal.partitions;
  const source = deadLetterTopics.get(topic);
  if (source !== undefined) return partitionsOf(source);
  const changelog = changelogs.get(topic);
  if (changelog) return partitionsOf(changelog.inputs[0] as string);
  return defaultPartitions;
}

// ------------------------------------------------------------------ Avro

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const shortName = (name: string) => name.slice(name.lastIndexOf('.') + 1);
const isNamed = (node: JsonObject) => node.type === 'record' || node.type === 'enum' || node.type === 'fixed';

/** A schema with every named type below the root replaced by its short name, as the .avsc files refer to them. */
function byName(node: Json, isRoot = true): Json {
  if (typeof node === 'string') return PRIMITIVES.has(node) ? node : shortName(node);
  if (Array.isArray(node)) return node.map((branch) => byName(branch, false));
  if (node === null || typeof node !== 'object') return node;
  if (isNamed(node) && !isRoot) return shortName(String(node.name));
  if (node.type === 'record')
    return {
      ...node,
      fields: (node.fields as JsonObject[]).map((f) => ({ ...f, type: byName(f.type as Json, false) })),
    };
  if (node.type === 'array') return { ...node, items: byName(node.items as Json, false) };
  if (node.type === 'map') return { ...node, values: byName(node.values as Json, false) };
  if (typeof node.type === 'string' && PRIMITIVES.has(node.type)) return node;
  return { ...node, type: byName(node.type as Json, false) };
}

/** Every named type defined in a schema, the root included. */
function definitions(node: Json, into: JsonObject[] = []): JsonObject[] {
  if (Array.isArray(node)) for (const branch of node) definitions(branch, into);
  else if (node !== null && typeof node === 'object') {
    if (isNamed(node)) into.push(node);
    if (node.type === 'record') for (const f of node.fields as JsonObject[]) definitions(f.type as Json, into);
    else if (node.type === 'array') definitions(node.items as Json, into);
    else if (node.type === 'map') definitions(node.values as Json, into);
    else if (typeof node.type !== 'string') definitions(node.type as Json, into);
  }
  return into;
}

/** The Avro messages: channel topic, message and payload schema. */
const avroMessages = Object.values(channels).flatMap((channel) =>
  Object.values(channel.messages as Record<string, JsonObject>)
    .map((message) => ({ topic: String(channel.address), message, payload: deref(message.payload as Json) }))
    .filter((m) => m.payload.schemaFormat === AVRO),
);

// ------------------------------------------------------------------ tests

describe('docs/asyncapi.yaml', () => {
  it('is a valid AsyncAPI 3.0.0 document whose Avro payloads parse', async () => {
    const parser = new Parser();
    parser.registerSchemaParser(AvroSchemaParser());
    const { document, diagnostics } = await parser.parse(yamlText);
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.path.join('/')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    // The Avro schema parser turned every payload into a schema with the record's fields.
    const parsed = document?.allMessages().all() ?? [];
    expect(parsed.length).toBe(Object.keys(channels).length);
    let avroPayloads = 0;
    for (const message of parsed) {
      const payload = message.payload();
      if (payload?.schemaFormat() !== AVRO) continue;
      avroPayloads++;
      const original = (payload.json() as JsonObject)['x-parser-original-payload'] as JsonObject;
      const fields = (original.fields as JsonObject[]).map((f) => f.name);
      expect(Object.keys(payload.properties() ?? {}), String(original.name)).toEqual(fields);
    }
    expect(avroPayloads).toBe(avroMessages.length);
    // avsc, which the Avro schema parser validates with, accepts every payload.
    const avroParser = AvroSchemaParser();
    for (const { topic, payload } of avroMessages) {
      const problems = await avroParser.validate({
        asyncapi: {} as never,
        data: payload.schema,
        meta: {},
        path: [topic],
        schemaFormat: AVRO,
        defaultSchemaFormat: AVRO,
      });
      expect(problems ?? [], topic).toEqual([]);
    }
  });

  it('has a public channel for every topic of schemas/topics.json, with its record', () => {
    for (const entry of catalogue) {
      const { channel, message } = channelOf(entry.topic);
      expect((deref(message.payload as Json).schema as JsonObject).name, entry.topic).toBe(entry.record);
      expect(String(message.description), entry.topic).toContain(subjectOf(entry.topic));
      expect(channel['x-churn-internal'], entry.topic).toBe(false);
      expect(tagsOf(channel), entry.topic).toEqual([entry.role]);
      const kafka = kafkaOf(channel);
      expect(kafka.partitions, entry.topic).toBe(partitionsOf(entry.topic));
      expect((kafka.topicConfiguration as JsonObject)['cleanup.policy'], entry.topic).toEqual([
        entry.compacted ? 'compact' : 'delete',
      ]);
    }
  });

  it('has an internal channel for every internal, changelog and dead-letter topic of the topologies', () => {
    const internal = [...internalTopics.keys(), ...changelogs.keys(), ...deadLetterTopics.keys()];
    expect(internal.length).toBeGreaterThan(0);
    for (const topic of internal) {
      const { channel, message } = channelOf(topic);
      expect(channel['x-churn-internal'], topic).toBe(true);
      expect(tagsOf(channel), topic).toContain('internal');
      const kafka = kafkaOf(channel);
      expect(kafka.partitions, topic).toBe(partitionsOf(topic));
      expect((kafka.topicConfiguration as JsonObject)['cleanup.policy'], topic).toEqual([
        changelogs.has(topic) ? 'compact' : 'delete',
      ]);
      const record = internalTopics.get(topic)?.record;
      if (record) expect((deref(message.payload as Json).schema as JsonObject).name, topic).toBe(record);
      if (deadLetterTopics.has(topic)) {
        expect(channel['x-churn-dead-letter-of'], topic).toBe(deadLetterTopics.get(topic));
        expect(tagsOf(channel), topic).toContain('dead-letter');
      }
      if (changelogs.has(topic)) expect(tagsOf(channel), topic).toContain('changelog');
    }
    // And no channel for a topic the code does not use.
    const known = new Set([...inCatalogue, ...internal]);
    expect(Object.values(channels).filter((c) => !known.has(String(c.address)))).toEqual([]);
  });

  it('receives what the topologies read and sends what they write, dead letters and changelogs included', () => {
    const actions = (topic: string) =>
      Object.values(operations)
        .filter((op) => deref(op.channel as Json) === channelOf(topic).channel)
        .map((op) => op.action)
        .sort();
    for (const topic of new Set([...read_, ...written, ...deadLetterTopics.keys(), ...changelogs.keys()])) {
      const expected = [
        ...(read_.has(topic) || changelogs.has(topic) ? ['receive'] : []),
        ...(written.has(topic) || changelogs.has(topic) || deadLetterTopics.has(topic) ? ['send'] : []),
      ];
      expect(actions(topic), topic).toEqual(expected);
    }
    for (const entry of catalogue) expect(actions(entry.topic)).toContain(entry.role === 'input' ? 'receive' : 'send');
    // A topic is received by the consumer groups of the topologies that read it.
    for (const [id, op] of Object.entries(operations)) {
      if (op.action !== 'receive') continue;
      const topic = String(deref(op.channel as Json).address);
      const readers = topologies.filter((t) => t.inputs.includes(topic) || changelogOf(t) === topic);
      const groups = ((kafkaOf(op).groupId as JsonObject).enum as string[]).slice().sort();
      expect(groups, id).toEqual([...new Set(readers.map((t) => runnerOf(t).groupId))].sort());
    }
  });

  it('names the policy setting without which a topic is not used', () => {
    const all = topicsOf(everything);
    for (const feature of Object.keys(FEATURES) as (keyof typeof FEATURES)[]) {
      const without = topicsOf(policyWithout(feature));
      const needing = [...all].filter((t) => !without.has(t));
      expect(needing.length, feature).toBeGreaterThan(0);
      for (const topic of all) {
        const requires = (channelOf(topic).channel['x-churn-policy-requires'] as string[] | undefined) ?? [];
        expect(requires.includes(feature), `${topic} needs ${feature}`).toBe(needing.includes(topic));
      }
    }
  });

  it("carries each record's .avsc as its payload, with the named types it uses inline", () => {
    expect(avroMessages.length).toBeGreaterThan(0);
    for (const { topic, payload } of avroMessages) {
      expect(payload.schemaFormat).toBe(AVRO);
      const schema = payload.schema as JsonObject;
      // What the registry is given for the record...
      expect(schema, topic).toEqual(avroSchemas[schema.name as RecordName]);
      // ...is its .avsc, each named type it uses defined where first used, as in its own file.
      const defined = definitions(schema);
      expect(defined[0]).toBe(schema);
      for (const def of defined) {
        const file = avsc.get(shortName(String(def.name)));
        expect(file, `${topic}: ${String(def.name)}`).toBeDefined();
        expect(byName(def), `${topic}: ${String(def.name)}`).toEqual(byName(file as JsonObject));
      }
    }
  });

  it('gives every record examples its Avro schema and contract accept, keyed as the pipeline keys them', () => {
    for (const { topic, message, payload } of avroMessages) {
      const examples = (message.examples as JsonObject[]) ?? [];
      expect(examples.length, topic).toBeGreaterThan(0);
      const type = avro.Type.forSchema(payload.schema as avro.Schema);
      const record = (payload.schema as JsonObject).name as RecordName;
      const key = kafkaOf(message).key as JsonObject;
      for (const example of examples) {
        expect(type.isValid(example.payload), `${topic}: ${String(example.name)}`).toBe(true);
        expect(validateRecord(record, example.payload).ok, `${topic}: ${String(example.name)}`).toBe(true);
        const customerId = (example.payload as JsonObject).customerId;
        // Contract topics are keyed by the customerId; the key schema lists each example's key.
        if (inCatalogue.has(topic) && typeof customerId === 'string') expect(key.examples).toContain(customerId);
        if (Array.isArray(key.enum)) for (const k of key.examples as Json[]) expect(key.enum).toContain(k);
      }
    }
  });

  it('gives dead letters the headers the dead-letter writer sets', () => {
    const headers = (doc.components as { schemas: Record<string, JsonObject> }).schemas.DeadLetterHeaders as JsonObject;
    expect(Object.keys(headers.properties as JsonObject)).toEqual(Object.values(DLQ_HEADERS));
    expect(headers.required).toEqual(Object.values(DLQ_HEADERS));
    for (const [topic, source] of deadLetterTopics) {
      const { message } = channelOf(topic);
      expect(deref(message.headers as Json), topic).toBe(headers);
      const example = ((message.examples as JsonObject[]) ?? [])[0]?.headers as JsonObject;
      expect(Object.keys(example ?? {}), topic).toEqual(Object.values(DLQ_HEADERS));
      expect(example?.[DLQ_HEADERS.topic], topic).toBe(source);
      const kinds = (headers.properties as Record<string, JsonObject>)[DLQ_HEADERS.kind]?.enum as Json[];
      expect(kinds, topic).toContain(example?.[DLQ_HEADERS.kind]);
    }
  });

  it('is what the generator writes now, and so is docs/asyncapi.html', async () => {
    const now = await renderAsyncApi();
    expect(Object.keys(now).sort()).toEqual(['asyncapi.html', 'asyncapi.yaml']);
    expect(now['asyncapi.yaml']).toBe(yamlText);
    expect(now['asyncapi.html']).toBe(read('docs/asyncapi.html'));
  });

  it('goes stale when a schema changes', async () => {
    const changed = structuredClone(avroSchemas) as Record<RecordName, { fields: JsonObject[] }>;
    changed.CustomerProfile.fields.push({ name: 'loyaltyProgram', type: ['null', 'string'], default: null });
    const rendered = await renderAsyncApi({ schemas: changed });
    expect(rendered['asyncapi.yaml']).not.toBe(yamlText);
    expect(rendered['asyncapi.html']).not.toBe(read('docs/asyncapi.html'));
    const payload = (
      parse(rendered['asyncapi.yaml'] as string) as { components: { schemas: Record<string, JsonObject> } }
    ).components.schemas.CustomerProfile?.schema as JsonObject;
    expect((payload.fields as JsonObject[]).map((f) => f.name)).toContain('loyaltyProgram');
  });
});
