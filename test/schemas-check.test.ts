import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { avroSchemas, topicCatalogue } from '@churn/contracts';
import { checkSchemas, RegistryAdmin } from '@churn/serde';
import { afterAll, describe, expect, inject, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '..');

type AvroRecord = { name: string; fields: Array<{ name: string; default?: unknown; type: unknown }> };
const base = avroSchemas.CancellationRequested as AvroRecord;
const withFields = (fields: AvroRecord['fields']): AvroRecord => ({ ...base, fields });

describe('schemas:check against the real registry', () => {
  const admin = new RegistryAdmin({ url: inject('schemaRegistryUrl') });
  const created: string[] = [];
  const freshSubject = async (): Promise<string> => {
    const subject = `test.schemas-check.${crypto.randomUUID()}-value`;
    created.push(subject);
    const [first] = await checkSchemas(admin, [{ subject, schema: base }]);
    expect(first?.status).toBe('new');
    return subject;
  };

  afterAll(async () => {
    for (const subject of created) await admin.deleteSubject(subject).catch(() => {});
  });

  it('sets BACKWARD on every subject it registers, since the registry would otherwise answer NONE', async () => {
    const subject = await freshSubject();
    expect(await admin.getCompatibility(subject)).toBe('BACKWARD');
  });

  it('fails when a field without a default is removed', async () => {
    const subject = await freshSubject();
    const removed = withFields(base.fields.filter((f) => f.name !== 'cancellationId'));
    const [result] = await checkSchemas(admin, [{ subject, schema: removed }]);
    expect(result?.status).toBe('incompatible');
    expect(result?.messages.join(' ')).toMatch(/cancellationId/);
    expect((await admin.latestSchema(subject))?.schema).not.toContain(
      '"fields":[{"name":"eventId"},{"name":"occurredAt"}',
    );
  });

  it('fails when a field is added without a default (not BACKWARD compatible)', async () => {
    const subject = await freshSubject();
    const added = withFields([...base.fields, { name: 'priorityScore', type: 'int' }]);
    const [result] = await checkSchemas(admin, [{ subject, schema: added }]);
    expect(result?.status).toBe('incompatible');
    expect(result?.messages[0]).toMatch(/BACKWARD/);
  });

  it('accepts an added optional field and registers it as a new version', async () => {
    const subject = await freshSubject();
    const added = withFields([...base.fields, { name: 'campaign', type: ['null', 'string'], default: null }]);
    const [result] = await checkSchemas(admin, [{ subject, schema: added }]);
    expect(result?.status).toBe('compatible');
    expect((await admin.latestSchema(subject))?.schema).toContain('campaign');
  });

  it('accepts the decision with what learning and experiments add, over the decision before them', async () => {
    // The ChurnDecision as it was before: without the arm, cohort, hazard and snapshot
    // date, and offers weighed without their prior and observed counts.
    type Field = { name: string; type: unknown; default?: unknown };
    const current = avroSchemas.ChurnDecision as { name: string; fields: Field[] };
    const added = ['arm', 'cohort', 'monthlyChurnHazard', 'learnedAsOf'];
    const addedToOffers = ['prior', 'observedSaves', 'observedTries', 'cohortMultiplier'];
    const previous = {
      ...current,
      fields: current.fields
        .filter((f) => !added.includes(f.name))
        .map((f) => {
          if (f.name !== 'offersWeighed') return f;
          const items = (f.type as { items: { fields: Field[] } }).items;
          return {
            ...f,
            type: {
              type: 'array',
              items: { ...items, fields: items.fields.filter((x) => !addedToOffers.includes(x.name)) },
            },
          };
        }),
    };
    expect(JSON.stringify(previous)).not.toBe(JSON.stringify(current));
    const subject = `test.schemas-check.${crypto.randomUUID()}-value`;
    created.push(subject);
    const [first] = await checkSchemas(admin, [{ subject, schema: previous }]);
    expect(first?.status).toBe('new');
    const [result] = await checkSchemas(admin, [{ subject, schema: current }]);
    expect(result?.status, result?.messages.join(' ')).toBe('compatible');
  });

  it('passes for the contracts as they are (the npm script exits 0)', async () => {
    const { stdout } = await run(process.execPath, ['--conditions=source', 'packages/serde/scripts/schemas-check.ts'], {
      cwd: repoRoot,
      env: { ...process.env, SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl') },
    });
    expect(stdout).toMatch(new RegExp(`${topicCatalogue.length} subjects at .*, 0 incompatible`));
  });
});
