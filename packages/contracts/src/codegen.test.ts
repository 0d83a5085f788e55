import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderGenerated } from './codegen.ts';
import { avroSchemas } from './generated/avro.ts';

const schemasDir = resolve(import.meta.dirname, '../../../schemas');
const read = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((f) => ({ file: join(dir, f), schema: JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown }));
const files = [...read(join(schemasDir, 'types')), ...read(schemasDir)];
const catalogue = JSON.parse(readFileSync(join(schemasDir, 'topics.json'), 'utf8')) as unknown;

describe('the TypeScript contracts are generated from the Avro schemas', () => {
  it('matches what the schemas generate today (run npm run contracts:generate when this fails)', () => {
    const outputs = renderGenerated(files, catalogue);
    for (const [name, text] of Object.entries(outputs)) {
      expect(readFileSync(resolve(import.meta.dirname, 'generated', name), 'utf8'), name).toBe(text);
    }
  });

  it('gives every record a self-contained schema that defines each named type once', () => {
    const decision = JSON.stringify(avroSchemas.ChurnDecision);
    expect(decision.match(/"name":"Offer","namespace"/g)).toHaveLength(1);
    expect(decision).toContain('"name":"CustomerValue"');
  });

  it('refuses a schema that refers to a type nobody defines', () => {
    const broken = [
      ...files,
      {
        file: 'Broken.avsc',
        schema: { type: 'record', name: 'Broken', namespace: 'churn.v1', fields: [{ name: 'x', type: 'Nowhere' }] },
      },
    ];
    expect(() => renderGenerated(broken, catalogue)).toThrow(/Broken.avsc: unknown type Nowhere/);
  });

  it('refuses a topic catalogue entry whose record has no schema', () => {
    expect(() => renderGenerated(files, { topics: [{ topic: 't', record: 'Missing', role: 'input' }] })).toThrow(
      /Missing has no schema/,
    );
  });
});
