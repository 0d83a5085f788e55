import type { z } from 'zod';
import { type ContractIssue, ContractViolation } from './errors.ts';
import type { RecordName, RecordTypes } from './generated/avro.ts';
import * as validators from './generated/validators.ts';
import { crossFieldRules } from './rules.ts';

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; issues: ContractIssue[] };

function validatorFor(record: RecordName): z.ZodType {
  const schema = (validators as Record<string, z.ZodType | undefined>)[`${record}Schema`];
  if (!schema) throw new TypeError(`no validator for record ${record}`);
  return schema;
}

/**
 * Checks a value against a record's contract: the Avro schema's shape plus the rules of
 * meaning (UUID event ids, ISO currency codes, non-negative money, score ranges).
 * Fields with a default may be left out; the returned value has them filled in.
 */
export function validateRecord<R extends RecordName>(record: R, value: unknown): ValidationResult<RecordTypes[R]> {
  const parsed = validatorFor(record).safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
    };
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
