/**
 * A client that is not kafkajs feeds the pipeline and reads what it writes: Python's
 * confluent-kafka (librdkafka) with the Confluent Avro serializer (fastavro), through
 * test/support/second_client.py.
 *
 * It writes the surveys with its own writer schema, the contract plus one optional field,
 * so the services resolve a newer writer schema to their reader schema; the other topics
 * carry the contract's schema. As in replay-vs-kafka, the file is on its topics before
 * the services read it, and every output the Python consumer reads back (read_committed)
 * equals the output of the replay of the same file. A survey that breaks its contract
 * goes to the dead-letter topic with the original bytes and the error headers.
 *
 * The registry is left as found: the contract's schema is the surveys subject's latest
 * version again (the other version is soft-deleted, so its id still resolves for the
 * records already written with it) and the subject stays BACKWARD.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { allTopologies, generatePopulation } from '@churn/cli';
import { avroSchemas, deadLetterTopicOf, recordOfTopic, subjectOf, topicCatalogue } from '@churn/contracts';
import { aSurveyResult } from '@churn/contracts/testing';
import type { OutputRecord, RunningService } from '@churn/runtime';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { emptyBroker, ensureTopics, testKafka, testSerde } from './support/kafka.ts';
import { eventually, ready, replayOutputs, startTestService, testPolicy, writeEvents } from './support/pipeline.ts';

const run = promisify(execFile);
const DAY = 86_400_000;
const SCRIPT = join(import.meta.dirname, 'support/second_client.py');
const VENV_PYTHON = resolve(import.meta.dirname, '../.churn/python/bin/python');
const SURVEYS = 'customer.surveys.v1';
/** The field the second client's surveys carry and the contract does not have. */
const EXTRA_FIELD = 'surveyTool';
const COMPARED = [
  'churn.customer-value.v1',
  'churn.decisions.v1',
  'contact-center.tasks.v1',
  'churn.alerts.v1',
] as const;

/** The interpreter: CHURN_PYTHON, else the venv .ci/run makes, else python3; null problem when usable. */
function findPython(): { python: string; problem: string | null } {
  const python = process.env.CHURN_PYTHON || (existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3');
  const probe = spawnSync(python, [SCRIPT, 'check'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.error) return { python, problem: `${python} does not run: ${probe.error.message}` };
  if (probe.status !== 0) return { python, problem: `${python}: ${probe.stderr.trim()}` };
  console.log(`second client: ${probe.stdout.trim()}`);
  return { python, problem: null };
}

const ci = process.env.CI === 'true';
const { python, problem } = findPython();
if (problem && !ci) console.warn(`test/second-client.test.ts is skipped: ${problem}`);

async function secondClient(args: string[]): Promise<string> {
  try {
    const { stdout } = await run(python, [SCRIPT, ...args], { maxBuffer: 256 * 1024 * 1024, timeout: 240_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`second_client.py ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
  }
}

const jsonLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as T);

function caughtUp(services: RunningService[]): boolean {
  return services.every((s) => s.runners[0]?.isCaughtUp() === true);
}

describe('a second client (Python confluent-kafka) feeds the pipeline and reads its outputs', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('with its own writer schema for the surveys, gets what the replay of the same file gives', {
    timeout: 300_000,
  }, async (ctx) => {
    if (problem) {
      if (ci) throw new Error(`the second client cannot run: ${problem}. Under CI=true this is a failure, not a skip.`);
      ctx.skip(problem);
    }
    const brokers = inject('kafkaBrokers');
    const registry = inject('schemaRegistryUrl');
    const policy = testPolicy();
    // Every topology, each as its own service, on an empty cluster: the learning snapshot
    // and the structural count span customers, and would otherwise count what earlier
    // tests left on the broker.
    const topologies = allTopologies(policy);
    const start = () => Promise.all(topologies.map((t) => startTestService(t.name, [t], { MERGE_IDLE_MS: '30000' })));
    const stopAll = async (services: RunningService[]) => {
      for (const s of services) await s.stop();
    };
    await emptyBroker();
    const startAt = Date.UTC(2025, 0, 1);

    const prefix = `py${crypto.randomUUID().slice(0, 6)}-`;
    const events = generatePopulation({ customers: 30, months: 14, seed: 23, idPrefix: prefix, start: startAt });
    const file = writeEvents(events, 'second-client');
    const dir = dirname(file);
    expect(events.filter((e) => e.topic === SURVEYS).length).toBeGreaterThan(10);

    // The oracle: the in-process replay of the whole file.
    const oracle = await replayOutputs(file, policy);
    // Keyed by customer (a structural alert, keyed by reason, is the replay test's to compare).
    const expected = oracle.filter(
      (r) => (COMPARED as readonly string[]).includes(r.topic) && r.key.startsWith(prefix),
    );
    const count = (topic: string) => expected.filter((r) => r.topic === topic).length;
    expect(count('churn.decisions.v1')).toBeGreaterThan(0);
    expect(count('contact-center.tasks.v1')).toBeGreaterThan(10);
    const lastMidnight =
      Math.floor(Math.max(...events.map((e) => (e.value as { occurredAt: number }).occurredAt)) / DAY) * DAY;

    // A survey the contract refuses (an NPS score runs 0-10), for a customer of its own.
    const badKey = `${prefix}bad-nps`;
    const badFile = join(dir, 'bad.jsonl');
    const bad = aSurveyResult({ customerId: badKey, surveyId: badKey, score: 11, comment: null, occurredAt: startAt });
    writeFileSync(badFile, `${JSON.stringify({ topic: SURVEYS, key: badKey, value: bad })}\n`);

    // Topics, and every input subject registered with the contract and BACKWARD, as the
    // services would; the second client registers the same schema text, or its own.
    const admin = testKafka().admin();
    await admin.connect();
    await ensureTopics(admin);
    await admin.disconnect();
    const serde = testSerde();
    const inputs = topicCatalogue.filter((t) => t.role === 'input').map((t) => t.topic);
    const contractIds = await serde.registerAll(inputs);
    const schemasFile = join(dir, 'schemas.json');
    writeFileSync(
      schemasFile,
      JSON.stringify(Object.fromEntries(inputs.map((t) => [t, JSON.stringify(avroSchemas[recordOfTopic(t)])]))),
    );
    const subject = subjectOf(SURVEYS);
    // Leaves the contract as the subject's latest version again (soft delete: the id stays).
    const restoreSubject = async (ownId: number) => {
      for (let i = 0; i < 5; i++) {
        const last = await serde.admin.latestSchema(subject);
        if (last?.id !== ownId) return;
        const res = await fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions/${last.version}`, {
          method: 'DELETE',
        });
        if (!res.ok) throw new Error(`could not delete ${subject} version ${last.version}: HTTP ${res.status}`);
      }
    };

    // The backlog, written by the second client.
    const produced = JSON.parse(
      await secondClient([
        'produce',
        '--bootstrap',
        brokers,
        '--registry',
        registry,
        '--schemas',
        schemasFile,
        '--in',
        file,
        '--in',
        badFile,
        '--extend',
        `${SURVEYS}:${EXTRA_FIELD}=acme-surveys`,
      ]),
    ) as { produced: number; schemaIds: Record<string, number> };
    const ownId = produced.schemaIds[SURVEYS]!;
    cleanups.push(() => restoreSubject(ownId));
    expect(produced.produced).toBe(events.length + 1);
    expect(ownId).not.toBe(contractIds.get(SURVEYS));
    for (const topic of inputs.filter((t) => t !== SURVEYS && t in produced.schemaIds))
      expect(produced.schemaIds[topic], topic).toBe(contractIds.get(topic));
    const own = await serde.admin.latestSchema(subject);
    expect(own?.id).toBe(ownId);
    expect(JSON.parse(own?.schema ?? '{}').fields.map((f: { name: string }) => f.name)).toContain(EXTRA_FIELD);
    expect(await serde.admin.getCompatibility(subject)).toBe('BACKWARD');

    const services = await start();
    cleanups.push(() => stopAll(services));
    for (const s of services) await ready(s);
    await eventually('the services to catch up with the file', () => caughtUp(services), 180_000);
    // The replay's clock ends at the file's last midnight; take every partition there.
    for (const s of services) await s.runners[0]?.advanceClock(lastMidnight);

    // Every output, read back by the second client.
    const actual = jsonLines<OutputRecord>(
      await secondClient([
        'consume',
        '--bootstrap',
        brokers,
        '--registry',
        registry,
        ...COMPARED.flatMap((t) => ['--topic', t]),
        '--key-prefix',
        prefix,
        '--max',
        String(expected.length),
        '--idle-ms',
        '1500',
        '--timeout-ms',
        '120000',
      ]),
    );
    const canonical = (records: OutputRecord[]) =>
      records.map((r) => JSON.stringify({ topic: r.topic, key: r.key, value: r.value })).sort();
    for (const topic of COMPARED) expect(actual.filter((r) => r.topic === topic).length, topic).toBe(count(topic));
    const [got, want] = [canonical(actual), canonical(expected)];
    const differences = {
      missing: want.filter((r) => !got.includes(r)).slice(0, 3),
      unexpected: got.filter((r) => !want.includes(r)).slice(0, 3),
    };
    expect(differences).toEqual({ missing: [], unexpected: [] });
    expect(got).toEqual(want);

    // The bad survey: one dead letter per service that reads surveys, its bytes as written.
    const readers = topologies.filter((t) => t.inputs.includes(SURVEYS)).map((t) => t.name);
    const dead = jsonLines<{ key: string; schemaId: number; headers: Record<string, string> }>(
      await secondClient([
        'consume',
        '--bootstrap',
        brokers,
        '--registry',
        registry,
        '--topic',
        deadLetterTopicOf(SURVEYS),
        '--key-prefix',
        badKey,
        '--dead-letters',
        '--max',
        String(readers.length),
        '--idle-ms',
        '1000',
        '--timeout-ms',
        '60000',
      ]),
    );
    expect(dead.map((d) => d.headers['churn.service']).sort()).toEqual([...readers].sort());
    for (const d of dead) {
      expect(d).toMatchObject({
        key: badKey,
        schemaId: ownId,
        headers: {
          'churn.error.kind': 'validation',
          'churn.error.code': 'CHURN_CONTRACT_VIOLATION',
          'churn.source.topic': SURVEYS,
        },
      });
      expect(d.headers['churn.error.message']).toMatch(/score: NPS scores run from 0 to 10, got 11/);
    }

    // The registry as found: the contract is the latest again, BACKWARD, and the second
    // client's schema id still resolves.
    await restoreSubject(ownId);
    expect((await serde.admin.latestSchema(subject))?.id).toBe(contractIds.get(SURVEYS));
    expect(await serde.admin.getCompatibility(subject)).toBe('BACKWARD');
    expect((await fetch(`${registry}/schemas/ids/${ownId}`)).status).toBe(200);
  });
});
