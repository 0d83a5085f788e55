/**
 * Generates the TypeScript side of the contracts from the Avro schemas under
 * `schemas/` (the source of truth): record types, enum value lists, zod validators and
 * the self-contained Avro schema of every record; and the AsyncAPI document of the
 * pipeline, docs/asyncapi.yaml, with its HTML view docs/asyncapi.html (asyncapi.ts).
 *
 *   node --conditions=source packages/contracts/scripts/generate.ts          writes src/generated/ and docs/asyncapi.*
 *   node --conditions=source packages/contracts/scripts/generate.ts --check  fails when any of them is stale
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
const check = process.argv.includes('--check');

if (!check) {
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(outputs)) writeFileSync(join(outDir, name), text);
  console.log(`contracts: wrote ${Object.keys(outputs).length} files to ${outDir} from ${files.length} schema files`);
}

// docs/asyncapi.yaml and .html describe the pipeline from its code, which imports the
// generated code: imported only once that is written.
const docsDir = join(repoRoot, 'docs');
const { renderAsyncApi } = await import('./asyncapi.ts');
const docs = await renderAsyncApi();

if (check) {
  const targets = [
    ...Object.entries(outputs).map(([name, text]) => ({ path: join(outDir, name), name, text })),
    ...Object.entries(docs).map(([name, text]) => ({ path: join(docsDir, name), name: `docs/${name}`, text })),
  ];
  const stale = targets.filter(({ path, text }) => {
    try {
      return readFileSync(path, 'utf8') !== text;
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(
      `contracts: generated files are out of date with schemas/ and the code: ${stale.map((t) => t.name).join(', ')}.\n` +
        'Run `npm run contracts:generate` and commit the result.',
    );
    process.exit(1);
  }
  console.log(`contracts: generated code and docs/asyncapi.* match schemas/ (${files.length} schema files)`);
} else {
  for (const [name, text] of Object.entries(docs)) writeFileSync(join(docsDir, name), text);
  console.log(
    `contracts: wrote ${Object.keys(docs)
      .map((n) => `docs/${n}`)
      .join(', ')}`,
  );
}
