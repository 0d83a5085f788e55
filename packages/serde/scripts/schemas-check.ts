/**
 * Registers every contract subject (`<topic>-value`) in the schema registry and fails
 * when a schema change is incompatible with what the registry holds.
 *
 *   SCHEMA_REGISTRY_URL=http://127.0.0.1:18081/apis/ccompat/v7 npm run schemas:check [-- --dry-run]
 *
 * Optional SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD for basic auth.
 */
import { avroSchemas, subjectOf, topicCatalogue } from '@churn/contracts';
import { checkSchemas, RegistryAdmin } from '../src/index.ts';

const url = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7';
const username = process.env.SCHEMA_REGISTRY_USERNAME;
const password = process.env.SCHEMA_REGISTRY_PASSWORD;
const dryRun = process.argv.includes('--dry-run');

const admin = new RegistryAdmin({ url, auth: username && password ? { username, password } : undefined });
const subjects = topicCatalogue.map((t) => ({ subject: subjectOf(t.topic), schema: avroSchemas[t.record] }));

try {
  const results = await checkSchemas(admin, subjects, { register: !dryRun });
  for (const r of results) {
    console.log(`${r.status.padEnd(12)} ${r.subject}${r.id === null ? '' : ` (id ${r.id})`}`);
    for (const m of r.messages) console.log(`             ${m}`);
  }
  const bad = results.filter((r) => r.status === 'incompatible');
  console.log(
    `schemas:check: ${results.length} subjects at ${url}, ${bad.length} incompatible${dryRun ? ' (dry run: nothing registered)' : ''}`,
  );
  process.exit(bad.length > 0 ? 1 : 0);
} catch (err) {
  console.error(`schemas:check: ${(err as Error).message}`);
  process.exit(2);
}
