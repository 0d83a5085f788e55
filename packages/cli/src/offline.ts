/**
 * The offline form of the contracts: one event per JSON line,
 * `{"topic": "...", "key": "<customerId>", "value": { ...the record... }}`, timestamps
 * as epoch milliseconds, money as integers in minor units.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { isTopicName, recordOfTopic, type TopicName, validateRecord } from '@churn/contracts';
import { customerIdOf } from '@churn/runtime';

export interface OfflineEvent {
  topic: TopicName;
  key: string;
  value: unknown;
}

export type ParsedLine = { ok: true; event: OfflineEvent } | { ok: false; reason: string; code: string };

/** Parses and validates one line of the offline form against the contracts. */
export function parseLine(line: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (err) {
    return { ok: false, code: 'CHURN_WIRE_FORMAT', reason: `not JSON: ${(err as Error).message}` };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, code: 'CHURN_WIRE_FORMAT', reason: 'a line must be a JSON object with topic, key and value' };
  }
  const { topic, key, value } = json as { topic?: unknown; key?: unknown; value?: unknown };
  if (typeof topic !== 'string' || !isTopicName(topic)) {
    return {
      ok: false,
      code: 'CHURN_WIRE_FORMAT',
      reason: `topic: ${JSON.stringify(topic)} is not a topic of the contracts`,
    };
  }
  const checked = validateRecord(recordOfTopic(topic), value);
  if (!checked.ok) {
    return {
      ok: false,
      code: 'CHURN_CONTRACT_VIOLATION',
      reason: checked.issues.map((i) => `value.${i.path}: ${i.message}`).join('; '),
    };
  }
  const customerId = customerIdOf(checked.value);
  if (typeof key !== 'string' || key.length === 0) {
    return {
      ok: false,
      code: 'CHURN_KEY_MISMATCH',
      reason: 'key: missing; customer-scoped topics are keyed by customerId',
    };
  }
  if (customerId !== null && key !== customerId) {
    return { ok: false, code: 'CHURN_KEY_MISMATCH', reason: "key: does not match the record's customerId" };
  }
  return { ok: true, event: { topic, key, value: checked.value } };
}

export function formatLine(event: { topic: string; key: string; value: unknown }): string {
  return JSON.stringify({ topic: event.topic, key: event.key, value: event.value });
}

/** Reads a file of JSON lines, yielding each non-empty line with its 1-based number. */
export async function* readLines(path: string): AsyncGenerator<{ line: string; number: number }> {
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of rl) {
    number++;
    if (line.trim().length > 0) yield { line, number };
  }
}
