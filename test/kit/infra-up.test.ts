/**
 * `npm run infra:up` (infra/local/up.sh) on a machine where the broker already runs, and
 * where its port is taken by something else. Java, Maven and curl are fakes: nothing is
 * fetched or started.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { read, root } from './repo.ts';

const lib = read('infra/local/lib.sh');
const KAFKA_VERSION = /KAFKA_VERSION="\$\{CHURN_KAFKA_VERSION:-([^}]+)\}"/.exec(lib)?.[1] as string;
const APICURIO_VERSION = /APICURIO_VERSION="\$\{CHURN_APICURIO_VERSION:-([^}]+)\}"/.exec(lib)?.[1] as string;

/** A folder for the run's data and cache, with fake java (17), mvn and curl first on PATH. */
function machine() {
  const dir = mkdtempSync(join(tmpdir(), 'churn-infra-up-'));
  const bin = join(dir, 'bin');
  const calls = join(dir, 'calls');
  mkdirSync(bin);
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho ${name} >> '${calls}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake('java', "echo '    java.specification.version = 17' >&2");
  fake('mvn', 'exit 1');
  fake('curl', 'exit 1');
  const env: Record<string, string> = {
    PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    HOME: dir,
    CHURN_CACHE_DIR: join(dir, 'cache'),
    CHURN_INFRA_DIR: join(dir, 'run'),
  };
  /** What fetch.sh finds already fetched: nothing to download. */
  const fetched = () => {
    const pom = read('infra/local/pom.xml');
    const libs = join(dir, 'cache', `kafka-${KAFKA_VERSION}`, 'libs');
    mkdirSync(libs, { recursive: true });
    writeFileSync(join(libs, '.complete'), `${createHash('sha256').update(pom).digest('hex')}\n`);
    const apicurio = join(dir, 'cache', `apicurio-${APICURIO_VERSION}`);
    mkdirSync(apicurio, { recursive: true });
    writeFileSync(join(apicurio, '.complete'), '');
  };
  const run = (...args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('bash', [join(root, 'infra/local/up.sh'), ...args], { env }, (err, _stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
  const called = () => (existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : []);
  return { dir, env, fetched, run, called };
}

describe('infra:up', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  it('says so and exits 0 when the broker and registry already run, starting and fetching nothing', async () => {
    const m = machine();
    mkdirSync(join(m.dir, 'run'), { recursive: true });
    // Pid files naming a live process (this one), as a running infra leaves them.
    for (const name of ['kafka.pid', 'registry.pid']) writeFileSync(join(m.dir, 'run', name), String(process.pid));
    const r = await m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('already running');
    expect(m.called().filter((c) => c !== 'java')).toEqual([]);
  });

  it("names the port when another process holds Kafka's", async () => {
    const m = machine();
    m.fetched();
    const server = createServer();
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    m.env.CHURN_KAFKA_PORT = String(port);
    const r = await m.run('kafka');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`port ${port} is taken by another process; set CHURN_KAFKA_PORT`);
    expect(m.called().filter((c) => c !== 'java')).toEqual([]);
  });
});
