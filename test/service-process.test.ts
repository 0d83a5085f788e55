/**
 * Services as their own processes, the way they are deployed: configuration errors
 * stop them at start-up with the variable named, and SIGTERM stops them cleanly.
 */
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import { decisionsTopologies } from '@churn/service-decisions';
import { describe, expect, it, onTestFinished } from 'vitest';
import { serviceProcessEnv } from './support/pipeline.ts';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '..');
const main = (service: string) => resolve(repoRoot, `services/${service}/src/main.ts`);

describe('a service process', () => {
  it('refuses bad configuration at start-up, naming every bad variable, and exits 1', async () => {
    const error = await run(process.execPath, ['--conditions=source', main('decisions')], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        KAFKA_BROKERS: '127.0.0.1:1',
        TOPIC_PARTITIONS: '0',
        PROCESSING_GUARANTEE: 'maybe',
      },
    }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(error).toMatchObject({ code: 1 });
    const { stderr } = error as { stderr: string };
    expect(stderr).toContain('SCHEMA_REGISTRY_URL');
    expect(stderr).toContain('TOPIC_PARTITIONS: must be at least 1');
    expect(stderr).toContain('PROCESSING_GUARANTEE');
  });

  it('leaves the group and exits 0 on SIGTERM, with readiness reported before', { timeout: 90_000 }, async () => {
    const child = spawn(process.execPath, ['--conditions=source', main('decisions')], {
      cwd: repoRoot,
      env: serviceProcessEnv({ INSTANCE_ID: 'sigterm-test', LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Whatever fails below, the process does not outlive the test: left running, it would
    // keep partitions of the decision service's group from every test after it.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const deadline = Date.now() + 60_000;
    while (!/"msg":"state restored from the changelog"/.test(out) || !/"msg":"consuming"/.test(out)) {
      if (Date.now() > deadline) throw new Error(`service did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const port = Number(/"port":(\d+)/.exec(out)?.[1]);
    // Ready once every topology the service runs has its state (the learning stage beside the decisions).
    let ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    while (ready.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    }
    expect(ready.status).toBe(200);
    const signalled = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(25_000);
    expect(out).toContain('"msg":"shutting down"');
    expect(out).toContain('"msg":"stopped"');
    // Structured logs: every line is JSON naming the service, or the topology the service runs beside it.
    const topologies = decisionsTopologies(loadPolicy(readJsonFile(DEFAULT_POLICY_FILE))).map((t) => t.name);
    for (const line of out.trim().split('\n')) expect(topologies).toContain(JSON.parse(line).service);
  });
});
