import avro from 'avsc';
import type { Compatibility, RegistryAdmin } from './registry-admin.ts';

export interface SubjectSchema {
  subject: string;
  schema: object;
}

export type SchemaCheckStatus = 'new' | 'unchanged' | 'compatible' | 'incompatible';

export interface SchemaCheckResult {
  subject: string;
  status: SchemaCheckStatus;
  /** Registered id after the check (null when not registered). */
  id: number | null;
  messages: string[];
}

export interface SchemaCheckOptions {
  /** Register the schemas that pass. @default true */
  register?: boolean;
  /** @default 'BACKWARD' */
  compatibility?: Compatibility;
}

/**
 * Whether readers that still use `previous` can read records written with `next`.
 * BACKWARD (checked by the registry) lets a field be removed; a consumer on the
 * previous contract that has no default for that field then fails on every new
 * record. The contract's fields are fixed, so removing one without a default is
 * refused here as well.
 */
export function oldReadersCanRead(previous: object, next: object): { ok: boolean; message?: string } {
  try {
    avro.Type.forSchema(previous as avro.Schema).createResolver(avro.Type.forSchema(next as avro.Schema));
    return { ok: true };
  } catch (err) {
    return { ok: false, message: `readers of the previous version cannot read the new one: ${(err as Error).message}` };
  }
}

function sameSchema(a: object, b: object): boolean {
  return avro.Type.forSchema(a as avro.Schema).equals(avro.Type.forSchema(b as avro.Schema));
}

/**
 * Checks each subject's schema against what the registry holds: the registry's own
 * compatibility check (BACKWARD by default, set explicitly on each subject) and
 * {@link oldReadersCanRead}. Registers the ones that pass unless told not to.
 */
export async function checkSchemas(
  admin: RegistryAdmin,
  subjects: readonly SubjectSchema[],
  options: SchemaCheckOptions = {},
): Promise<SchemaCheckResult[]> {
  const register = options.register ?? true;
  const level = options.compatibility ?? 'BACKWARD';
  const results: SchemaCheckResult[] = [];
  for (const { subject, schema } of subjects) {
    const latest = await admin.latestSchema(subject);
    if (!latest) {
      const id = register ? await admin.register(subject, schema) : null;
      if (register) await admin.setCompatibility(subject, level);
      results.push({ subject, status: 'new', id, messages: [] });
      continue;
    }
    const previous = JSON.parse(latest.schema) as object;
    if (sameSchema(previous, schema)) {
      if ((await admin.getCompatibility(subject)) !== level) await admin.setCompatibility(subject, level);
      results.push({ subject, status: 'unchanged', id: latest.id, messages: [] });
      continue;
    }
    await admin.setCompatibility(subject, level);
    const messages: string[] = [];
    const registry = await admin.isCompatible(subject, schema);
    if (!registry.compatible) messages.push(`not ${level} compatible according to the registry`, ...registry.messages);
    const old = oldReadersCanRead(previous, schema);
    if (!old.ok && old.message) messages.push(old.message);
    if (messages.length > 0) {
      results.push({ subject, status: 'incompatible', id: null, messages });
      continue;
    }
    const id = register ? await admin.register(subject, schema) : null;
    results.push({ subject, status: 'compatible', id, messages: [] });
  }
  return results;
}
