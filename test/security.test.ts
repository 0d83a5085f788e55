/**
 * The pipeline on an authenticated, encrypted broker: services reach Kafka through its
 * SASL_SSL listener (SCRAM-SHA-512, TLS from the local CA) and the registry with basic
 * auth, configured only through the environment. Wrong credentials are refused, a
 * service given them says why and exits, and no log of the run carries a secret or
 * free text from a record.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { ChurnError } from '@churn/contracts';
import type { RunningService, Topology } from '@churn/runtime';
import { ContractSerde } from '@churn/serde';
import { decisionsTopologies } from '@churn/service-decisions';
import { signalsTopology } from '@churn/service-signals';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Collector, connectWithTopics } from './support/kafka.ts';
import { ready, startTestService, testPolicy } from './support/pipeline.ts';
import { expectLogsFreeOf, LogCapture, sendCustomerWithFreeText } from './support/privacy.ts';
import { basicAuthHeader, type RegistryAuthProxy, startRegistryAuthProxy } from './support/registry-auth-proxy.ts';

const repoRoot = resolve(import.meta.dirname, '..');
const saslBrokers = inject('kafkaSaslBrokers');
const caFile = inject('kafkaSslCaFile');
const username = inject('kafkaSaslUsername');
const password = inject('kafkaSaslPassword');

/** Why there is no SASL_SSL listener to test against, or null when there is one. */
async function listenerProblem(): Promise<string | null> {
  if (!saslBrokers) return 'no SASL_SSL listener is configured (KAFKA_SASL_BROKERS with KAFKA_BROKERS)';
  if (!existsSync(caFile)) return `the CA file ${caFile || '(KAFKA_SSL_CA_FILE)'} does not exist`;
  const [host, port] = (saslBrokers.split(',')[0] ?? '').split(':');
  const open = await new Promise<boolean>((done) => {
    const socket = net.connect({ host, port: Number(port), timeout: 2000 }, () => {
      socket.destroy();
      done(true);
    });
    socket.on('error', () => done(false));
    socket.on('timeout', () => {
      socket.destroy();
      done(false);
    });
  });
  return open ? null : `nothing listens on ${saslBrokers}`;
}

const problem = await listenerProblem();
const ci = process.env.CI === 'true';
if (problem && !ci) {
  console.warn(
    `security tests skipped: ${problem}. infra/local/up.sh starts one; with KAFKA_BROKERS set, set KAFKA_SASL_BROKERS and KAFKA_SSL_CA_FILE too.`,
  );
}

const ca = () => [readFileSync(caFile, 'utf8')];

/** A kafkajs client for the SASL_SSL listener with the right credentials, unless overridden. */
function saslKafka(overrides: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'churn-security-test',
    brokers: saslBrokers.split(','),
    ssl: { ca: ca() },
    sasl: { mechanism: 'scram-sha-512', username, password },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    ...overrides,
  });
}

/** The error a client with `overrides` gets from the SASL_SSL listener, asked once (no retries). */
async function refusal(overrides: Partial<KafkaConfig>): Promise<Error> {
  const admin = saslKafka({ retry: { retries: 0 }, ...overrides }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (err) {
    return err as Error;
  } finally {
    await admin.disconnect().catch(() => {});
  }
  throw new Error('the broker let the client in');
}

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the decisions service as its own process with only `env`; resolves when it exits. */
function runDecisions(env: Record<string, string>, timeoutMs = 60_000): Promise<Exited> {
  const child = spawn(process.execPath, ['--conditions=source', resolve(repoRoot, 'services/decisions/src/main.ts')], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`the service neither became ready nor exited within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe.skipIf(problem !== null && !ci)('security: SASL_SSL to Kafka, basic auth to the registry', () => {
  const registryUser = 'churn-registry';
  const registryPassword = `registry-secret-${crypto.randomUUID()}`;
  const wrongSaslPassword = `wrong-sasl-${crypto.randomUUID()}`;
  const wrongRegistryPassword = `wrong-registry-${crypto.randomUUID()}`;
  const privateText = `PRIVATE-${crypto.randomUUID()}`;
  const logs = new LogCapture();
  const cleanups: Array<() => Promise<void>> = [];
  let proxy: RegistryAuthProxy;

  /** A service's environment: every credential from variables, as a deployment sets them. */
  const serviceEnv = (overrides: Record<string, string> = {}): Record<string, string> => ({
    KAFKA_BROKERS: saslBrokers,
    KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
    KAFKA_SSL_CA_FILE: caFile,
    SCHEMA_REGISTRY_URL: proxy.url,
    SCHEMA_REGISTRY_USERNAME: registryUser,
    SCHEMA_REGISTRY_PASSWORD: registryPassword,
    LOG_LEVEL: 'debug',
    ...overrides,
  });

  beforeAll(async () => {
    proxy = await startRegistryAuthProxy({
      target: inject('schemaRegistryUrl'),
      username: registryUser,
      password: registryPassword,
    });
    cleanups.push(() => proxy.close());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('has a SASL_SSL listener to test against (under CI=true its absence fails, it never skips)', () => {
    expect(problem, "the security tests need the broker's SASL_SSL listener").toBeNull();
  });

  it('runs the pipeline over SASL_SSL with registry credentials: a cancellation is decided', {
    timeout: 150_000,
  }, async () => {
    const policy = testPolicy();
    const services: RunningService[] = [];
    for (const [name, topologies] of [
      ['churn-decisions', decisionsTopologies(policy)],
      ['churn-signals', [signalsTopology(policy)]],
    ] as const) {
      const service = await startTestService(name, topologies as Topology<unknown>[], serviceEnv(), logs.logger(name));
      services.push(service);
      cleanups.push(() => service.stop());
    }
    for (const s of services) await ready(s);

    // The test's own clients go through the same listener and the same proxy.
    const { kafka, producer } = await connectWithTopics(saslKafka());
    cleanups.push(() => producer.disconnect());
    const collector = await new Collector(kafka).start(['churn.decisions.v1']);
    cleanups.push(() => collector.stop());
    const serde = new ContractSerde({ url: proxy.url, auth: { username: registryUser, password: registryPassword } });
    const send = async (topic: string, key: string, value: unknown) =>
      producer.send({ topic, messages: [{ key, value: await serde.encode(topic, value) }] });

    const { history } = await sendCustomerWithFreeText(send, privateText);
    await collector.waitFor(
      'the decision',
      () => collector.of('churn.decisions.v1', (r) => r.key === history.customerId).length > 0,
    );
    // The services registered their schemas through the proxy, with the credentials.
    expect(proxy.forwarded).toBeGreaterThan(0);
    expect(proxy.refused).toBe(0);
    expect(logs.text()).toContain('"msg":"consuming"');
  });

  it('refuses a client with a wrong password or an unknown user', async () => {
    for (const sasl of [
      { mechanism: 'scram-sha-512', username, password: wrongSaslPassword },
      { mechanism: 'scram-sha-512', username: `nobody-${crypto.randomUUID()}`, password },
    ] as const) {
      const err = await refusal({ sasl });
      expect(err.name).toBe('KafkaJSSASLAuthenticationError');
      expect(err.message).toMatch(/SASL SCRAM SHA512 authentication failed/);
    }
  });

  it('refuses a client without TLS, one without SASL, and one that does not trust the CA', async () => {
    // SASL over plain TCP to the TLS port: the broker drops the connection.
    expect((await refusal({ ssl: false })).message).toMatch(/closed connection/i);
    // TLS without authenticating: the broker answers nothing but the SASL handshake.
    expect((await refusal({ sasl: undefined })).message).toMatch(/closed connection/i);
    // The system's trust store does not know the local CA: the certificate is checked.
    expect((await refusal({ ssl: true })).message).toMatch(/self[- ]signed certificate|unable to verify/i);
  });

  it('refuses a registry client with a wrong password, or none, with a clear error', async () => {
    for (const auth of [{ username: registryUser, password: wrongRegistryPassword }, undefined]) {
      const serde = new ContractSerde({ url: proxy.url, auth });
      const err = await serde.registerAll(['churn.decisions.v1']).then(
        () => new Error('the registry accepted the request'),
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(ChurnError);
      expect(err).toMatchObject({ code: 'CHURN_CONFIG_INVALID', retriable: false });
      expect(err.message).toContain('schema registry refused the credentials (401)');
    }
  });

  it('a service with a wrong SASL password never becomes ready: it says why and exits 1', {
    timeout: 90_000,
  }, async () => {
    const run = await runDecisions(serviceEnv({ KAFKA_SASL_PASSWORD: wrongSaslPassword, INSTANCE_ID: 'wrong-sasl' }));
    logs.add(run.stdout);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('"msg":"consuming"');
    expect(run.stdout).toContain('"msg":"could not start"');
    expect(run.stderr).toMatch(/churn-decisions: .*SASL SCRAM SHA512 authentication failed/);
    expect(`${run.stdout}${run.stderr}`).not.toContain(wrongSaslPassword);
  });

  it('a service with a wrong registry password never becomes ready: it says why and exits 1', {
    timeout: 90_000,
  }, async () => {
    const refusedBefore = proxy.refused;
    const run = await runDecisions(
      serviceEnv({ SCHEMA_REGISTRY_PASSWORD: wrongRegistryPassword, INSTANCE_ID: 'wrong-registry' }),
    );
    logs.add(run.stdout);
    expect(run.code).toBe(1);
    expect(run.stdout).not.toContain('"msg":"consuming"');
    expect(run.stderr).toMatch(/churn-decisions: schema registry refused the credentials \(401\)/);
    // Refused once, not retried in a loop.
    expect(proxy.refused - refusedBefore).toBeLessThanOrEqual(3);
    expect(`${run.stdout}${run.stderr}`).not.toContain(wrongRegistryPassword);
  });

  it('logs of the whole run carry neither a password nor free text from records', () => {
    // The capture holds the in-process services' debug logs and the refused processes' logs.
    expect(logs.text()).toContain('"service":"churn-decisions"');
    expect(logs.text()).toContain('"service":"churn-signals"');
    expect(logs.text()).toContain('"msg":"could not start"');
    expectLogsFreeOf(logs.lines, [
      password,
      wrongSaslPassword,
      registryPassword,
      wrongRegistryPassword,
      // The registry credentials as they travel, base64 in the Authorization header.
      basicAuthHeader(registryUser, registryPassword).slice('Basic '.length),
      privateText,
    ]);
  });
});
