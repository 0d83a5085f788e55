import type { z } from 'zod';
import { type ContractIssue, ContractViolation } from './errors.ts';
import { avroSchemas, type RecordName, type RecordTypes } from './generated/avro.ts';
import * as validators from './generated/validators.ts';
import { crossFieldRules } from './rules.ts';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ContractIssue[] };

const validatorCache = new Map<RecordName, z.ZodType>();

function validatorFor(record: RecordName): z.ZodType {
  let schema = validatorCache.get(record);
  if (schema) return schema;
  schema = (validators as Record<string, z.ZodType | undefined>)[`${record}Schema`];
  if (!schema) throw new TypeError(`no validator for record ${record}`);
  validatorCache.set(record, schema);
  return schema;
}

/** The field names of each record node of the Avro schemas, built once per node. */
const knownFields = new WeakMap<object, ReadonlySet<string>>();

function fieldsOf(node: AvroNode & { fields: Array<{ name: string }> }): ReadonlySet<string> {
  let known = knownFields.get(node);
  if (!known) {
    known = new Set(node.fields.map((f) => f.name));
    knownFields.set(node, known);
  }
  return known;
}

interface AvroNode {
  type?: unknown;
  name?: string;
  namespace?: string;
  fields?: Array<{ name: string; type: unknown }>;
  items?: unknown;
}

/**
 * Fields a producer wrote that the record does not have (a typo, or a field of another
 * version): Avro would drop them silently, so they are refused. Only plain objects are
 * walked, which is what producers hand in; decoded records never carry extra fields.
 */
function unknownFields(record: RecordName, value: unknown): ContractIssue[] {
  const issues: ContractIssue[] = [];
  const named = new Map<string, AvroNode>();
  const walk = (schema: unknown, val: unknown, path: string, namespace: string): void => {
    if (val === null || typeof val !== 'object') return;
    if (typeof schema === 'string') {
      const target = named.get(schema.includes('.') ? schema : `${namespace}.${schema}`);
      if (target) walk(target, val, path, namespace);
      return;
    }
    if (Array.isArray(schema)) {
      for (const branch of schema) if (branch !== 'null') walk(branch, val, path, namespace);
      return;
    }
    const node = schema as AvroNode;
    if (node.type === 'array' && Array.isArray(val)) {
      for (const [i, item] of val.entries()) walk(node.items, item, `${path}${i}.`, namespace);
      return;
    }
    if (node.type !== 'record' || !node.fields || Object.getPrototypeOf(val) !== Object.prototype) return;
    const ns = node.namespace ?? namespace;
    named.set(`${ns}.${String(node.name)}`, node);
    const known = fieldsOf(node as AvroNode & { fields: Array<{ name: string }> });
    for (const key of Object.keys(val)) {
      if (!known.has(key)) issues.push({ path: `${path}${key}`, message: 'is not a field of this record' });
    }
    for (const field of node.fields)
      walk(field.type, (val as Record<string, unknown>)[field.name], `${path}${field.name}.`, ns);
  };
  walk(avroSchemas[record], value, '', '');
  return issues;
}

/**
 * Checks a value against a record's contract: the Avro schema's shape plus the rules of
 * meaning (UUID event ids, ISO currency codes, non-negative money, score ranges).
 * Fields with a default may be left out; the returned value has them filled in.
 */
export function validateRecord<R extends RecordName>(record: R, value: unknown): ValidationResult<RecordTypes[R]> {
  const parsed = validatorFor(record).safeParse(value);
  const extra = unknownFields(record, value);
  if (!parsed.success || extra.length > 0) {
    const issues = parsed.success
      ? []
      : parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
    return { ok: false, issues: [...issues, ...extra] };
  }
  const typed = parsed.data as RecordTypes[R];
  const rule = crossFieldRules[record] as ((r: RecordTypes[R]) => ContractIssue[]) | undefined;
  const issues = rule ? rule(typed) : [];
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: typed };
}

/** Like {@link validateRecord} but throws a {@link ContractViolation} that names every bad field. */
export function parseRecord<R extends RecordName>(record: R, value: unknown): RecordTypes[R] {
  const result = validateRecord(record, value);
  if (!result.ok) throw new ContractViolation(record, result.issues);
  return result.value;
}
