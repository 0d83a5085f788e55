/**
 * Generates the TypeScript side of the contracts from the Avro schemas under
 * `schemas/` (the source of truth): record types, enum value lists, zod validators and
 * the self-contained Avro schema of every record.
 *
 *   node --conditions=source packages/contracts/scripts/generate.ts          writes src/generated/
 *   node --conditions=source packages/contracts/scripts/generate.ts --check  fails when src/generated/ is stale
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGenerated, type SchemaFile } from '../src/codegen.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');
const schemasDir = join(repoRoot, 'schemas');
const outDir = resolve(here, '../src/generated');

function readAvsc(dir: string): SchemaFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((f) => ({ file: join(dir, f), schema: JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown }));
}

const files = [...readAvsc(join(schemasDir, 'types')), ...readAvsc(schemasDir)];
const catalogue = JSON.parse(readFileSync(join(schemasDir, 'topics.json'), 'utf8')) as unknown;
const outputs = renderGenerated(files, catalogue);

if (process.argv.includes('--check')) {
  const stale = Object.entries(outputs).filter(([name, text]) => {
    try {
      return readFileSync(join(outDir, name), 'utf8') !== text;
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(
      `contracts: generated code is out of date with schemas/: ${stale.map(([n]) => n).join(', ')}.\n` +
        'Run `npm run contracts:generate` and commit the result.',
    );
    process.exit(1);
  }
  console.log(`contracts: generated code matches schemas/ (${files.length} schema files)`);
} else {
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(outputs)) writeFileSync(join(outDir, name), text);
  console.log(`contracts: wrote ${Object.keys(outputs).length} files to ${outDir} from ${files.length} schema files`);
}
