/**
 * The services of a deployment shape as separate processes, the way they are deployed,
 * under a small supervisor: an instance that exits is started again (as an orchestrator
 * would), and the suite can kill, pause, add and remove instances. Each instance's log
 * goes to a file of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Shape, servicesOf } from '@churn/cli';
import { loadPolicy } from '@churn/domain';
import { DEFAULT_POLICY_FILE, readJsonFile } from '@churn/runtime';
import type { ClusterEnv } from './cluster.ts';
import { MAX_RECORD_BYTES } from './input.ts';

const repoRoot = resolve(import.meta.dirname, '../..');

/** A service of the deployment: its directory under services/ and the topologies it runs. */
export interface ServiceOfShape {
  /** The process's name. */
  readonly service: string;
  readonly dir: string;
  /** Its topologies' names: the names it writes in the dead-letter header `churn.service`. */
  readonly names: readonly string[];
  /** Whether it decides on cancellations (the service a long pause should hand over). */
  readonly decides: boolean;
}

/** The services of `shape`, as `churnctl` deploys them. */
export function servicesOfShape(shape: Shape): ServiceOfShape[] {
  return servicesOf(loadPolicy(readJsonFile(DEFAULT_POLICY_FILE)), shape).map((s) => ({
    service: s.service,
    dir: s.dir,
    names: s.topologies.map((t) => t.name),
    decides: s.topologies.some((t) => t.outputs.includes('churn.decisions.v1')),
  }));
}

let nextPort = 19_600 + Math.floor(Math.random() * 300);

export class Instance {
  readonly service: string;
  readonly id: string;
  readonly port = nextPort++;
  #child: ChildProcess | null = null;
  #log: WriteStream;
  #wanted = true;
  #env: Record<string, string>;
  restarts = 0;
  exits = 0;
  /** Dead letters counted by this instance's processes so far (scraped before each planned stop). */
  deadLettersCounted = 0;

  constructor(service: string, id: string, env: Record<string, string>, logDir: string) {
    this.service = service;
    this.id = id;
    this.#env = env;
    this.#log = createWriteStream(join(logDir, `${id}.log`), { flags: 'a' });
  }

  start(): void {
    this.#wanted = true;
    const child = spawn(
      process.execPath,
      ['--conditions=source', resolve(repoRoot, `services/${this.service}/src/main.ts`)],
      {
        cwd: repoRoot,
        env: { ...this.#env, METRICS_PORT: String(this.port), INSTANCE_ID: this.id },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.pipe(this.#log, { end: false });
    child.stderr?.pipe(this.#log, { end: false });
    child.on('exit', (code, signal) => {
      this.#child = null;
      this.exits++;
      this.#log.write(`\n--- exited code=${code} signal=${signal}\n`);
      if (this.#wanted && signal !== 'SIGKILL') {
        // Crashed on its own: start again, as an orchestrator would.
        this.restarts++;
        setTimeout(() => this.#wanted && !this.#child && this.start(), 500);
      }
    });
    this.#child = child;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(1000) });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** churn_dead_letters_total summed over this process's labels; null when it does not answer. */
  async deadLetters(): Promise<number | null> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.port}/metrics`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      let sum = 0;
      for (const line of text.split('\n'))
        if (line.startsWith('churn_dead_letters_total{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      return sum;
    } catch {
      return null;
    }
  }

  /** SIGKILL: no goodbye, open transactions left for the next owner to abort. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  /** SIGTERM and wait: leaves the group cleanly. Keeps the dead-letter count it reported. */
  async stop(): Promise<void> {
    this.#wanted = false;
    const child = this.#child;
    if (!child) return;
    this.deadLettersCounted += (await this.deadLetters()) ?? 0;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }

  async waitReady(timeoutMs = 120_000): Promise<number> {
    const started = Date.now();
    while (!(await this.ready())) {
      if (Date.now() - started > timeoutMs) throw new Error(`${this.id} not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Date.now() - started;
  }
}

export function serviceEnv(env: ClusterEnv): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KAFKA_BROKERS: env.brokers,
    SCHEMA_REGISTRY_URL: env.registryUrl,
    METRICS_HOST: '127.0.0.1',
    // The file's time, not the wall clock, moves the clocks: the replay oracle does the same.
    TICK_INTERVAL_MS: '0',
    // The input is a backlog: the merge may wait long for a fetch rather than reorder it.
    MERGE_IDLE_MS: '60000',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    MAX_RECORD_BYTES: String(MAX_RECORD_BYTES),
    LOG_LEVEL: 'warn',
  };
}
