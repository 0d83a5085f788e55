import { avroSchemas, type RecordName, type TopicEntry, type TopicName, topicCatalogue } from './generated/avro.ts';

/** The Confluent subject under which a topic's value schema is registered. */
export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

/** The dead-letter topic of a source topic. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}

const byTopic = new Map<string, TopicEntry>(topicCatalogue.map((entry) => [entry.topic, entry]));

export function isTopicName(topic: string): topic is TopicName {
  return byTopic.has(topic);
}

/** The catalogue entry of a topic; throws for a topic outside the contracts. */
export function topicEntry(topic: string): TopicEntry {
  const entry = byTopic.get(topic);
  if (!entry)
    throw new TypeError(`${topic} is not a topic of the contracts (known: ${[...byTopic.keys()].join(', ')})`);
  return entry;
}

export function recordOfTopic(topic: string): RecordName {
  return topicEntry(topic).record;
}

interface AvroField {
  name: string;
  type: unknown;
  pii?: boolean;
}

/**
 * Field paths that carry personal data (marked `"pii": true` in the schemas), per record,
 * e.g. `reasonText` or `value.someField`. Logs redact these.
 */
export const personalDataFields: Readonly<Record<RecordName, readonly string[]>> = Object.fromEntries(
  (Object.keys(avroSchemas) as RecordName[]).map((record) => {
    const found: string[] = [];
    const walk = (schema: unknown, prefix: string): void => {
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return;
      const node = schema as { type?: unknown; fields?: AvroField[] };
      if (node.type !== 'record' || !node.fields) return;
      for (const field of node.fields) {
        if (field.pii) found.push(`${prefix}${field.name}`);
        const branches = Array.isArray(field.type) ? field.type : [field.type];
        for (const branch of branches) walk(branch, `${prefix}${field.name}.`);
      }
    };
    walk(avroSchemas[record], '');
    return [record, found];
  }),
) as unknown as Record<RecordName, readonly string[]>;

/** The topics operations feed (role `input` in the catalogue), in catalogue order. */
export const inputTopics: readonly TopicName[] = topicCatalogue.filter((t) => t.role === 'input').map((t) => t.topic);
