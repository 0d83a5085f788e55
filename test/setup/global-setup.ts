/**
 * Finds a real Kafka broker and schema registry for the integration tests, in order:
 *   1. KAFKA_BROKERS and SCHEMA_REGISTRY_URL from the environment;
 *   2. containers through testcontainers, when a Docker engine answers;
 *   3. the local broker and registry from Maven Central (infra/local, Java 17).
 * Under CI=true an unreachable broker or registry fails the run; it never skips.
 * The broker's SASL_SSL listener (for test/security.test.ts) comes from KAFKA_SASL_BROKERS
 * and KAFKA_SSL_CA_FILE with the environment, or from the local infra's settings.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { probeInfra } from '../support/infra.ts';

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, '../..');

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    schemaRegistryUrl: string;
    infraSource: string;
    /** The broker's SASL_SSL listener (SCRAM-SHA-512), or '' when the infrastructure has none. */
    kafkaSaslBrokers: string;
    /** PEM file of the CA that signed the SASL_SSL listener's certificate. */
    kafkaSslCaFile: string;
    kafkaSaslUsername: string;
    kafkaSaslPassword: string;
  }
}

interface SaslListener {
  brokers: string;
  caFile: string;
}

function dockerAnswers(): Promise<boolean> {
  const socket = process.env.DOCKER_HOST?.startsWith('unix://')
    ? process.env.DOCKER_HOST.slice(7)
    : '/var/run/docker.sock';
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return Promise.resolve(true);
  if (!existsSync(socket)) return Promise.resolve(false);
  return new Promise((done) => {
    const req = http.get({ socketPath: socket, path: '/_ping', timeout: 1500 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('error', () => done(false));
    req.on('timeout', () => {
      req.destroy();
      done(false);
    });
  });
}

async function withContainers(): Promise<{ brokers: string; registry: string; stop: () => Promise<void> }> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const network = await new Network().start();
  const kafka = await new GenericContainer('apache/kafka:4.4.0')
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withExposedPorts({ container: 19092, host: 19092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:19092,INTERNAL://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:19092,INTERNAL://kafka:9092',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const registry = await new GenericContainer('confluentinc/cp-schema-registry:7.9.0')
    .withNetwork(network)
    .withExposedPorts(8081)
    .withEnvironment({
      SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
      SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9092',
      SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
    })
    .withWaitStrategy(Wait.forHttp('/subjects', 8081))
    .start();
  return {
    brokers: '127.0.0.1:19092',
    registry: `http://${registry.getHost()}:${registry.getMappedPort(8081)}`,
    stop: async () => {
      await registry.stop();
      await kafka.stop();
      await network.stop();
    },
  };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ci = process.env.CI === 'true';
  let brokers = process.env.KAFKA_BROKERS;
  let registry = process.env.SCHEMA_REGISTRY_URL;
  let source = 'environment (KAFKA_BROKERS, SCHEMA_REGISTRY_URL)';
  // From the environment: KAFKA_SASL_BROKERS and KAFKA_SSL_CA_FILE name the SASL_SSL listener.
  let sasl: SaslListener = {
    brokers: process.env.KAFKA_SASL_BROKERS ?? '',
    caFile: process.env.KAFKA_SSL_CA_FILE ?? '',
  };
  let teardown = async (): Promise<void> => {};

  if (!brokers || !registry) {
    if (await dockerAnswers()) {
      source = 'testcontainers (Docker)';
      const started = await withContainers();
      brokers = started.brokers;
      registry = started.registry;
      teardown = started.stop;
    } else {
      source = 'local infra from Maven Central (infra/local)';
      const status = await run('bash', [resolve(repoRoot, 'infra/local/status.sh')]).then(
        () => 'running',
        () => 'stopped',
      );
      if (status === 'stopped') {
        try {
          await run('bash', [resolve(repoRoot, 'infra/local/up.sh')], { maxBuffer: 10 * 1024 * 1024 });
        } catch (err) {
          const e = err as { stderr?: string; message: string };
          throw new Error(`could not start the local broker and registry: ${e.stderr ?? e.message}`);
        }
        teardown = async () => {
          if (process.env.CHURN_KEEP_INFRA !== '1') await run('bash', [resolve(repoRoot, 'infra/local/down.sh')]);
        };
      }
      brokers = `127.0.0.1:${process.env.CHURN_KAFKA_PORT ?? '19092'}`;
      registry = `http://127.0.0.1:${process.env.CHURN_REGISTRY_PORT ?? '18081'}/apis/ccompat/v7`;
      sasl = {
        brokers: `127.0.0.1:${process.env.CHURN_KAFKA_SASL_PORT ?? '19094'}`,
        caFile: resolve(process.env.CHURN_INFRA_DIR ?? resolve(repoRoot, '.churn/infra'), 'tls/ca.pem'),
      };
    }
  }

  const problem = await probeInfra(brokers, registry);
  if (problem) {
    const message = `integration tests need a real broker and registry (${source}): ${problem}`;
    await teardown();
    if (ci) throw new Error(`${message}. Under CI=true this is a failure, not a skip.`);
    throw new Error(`${message}. Start them with 'npm run infra:up' or set KAFKA_BROKERS and SCHEMA_REGISTRY_URL.`);
  }
  console.log(
    `integration tests: Kafka at ${brokers} (SASL_SSL at ${sasl.brokers || 'none'}), registry at ${registry} [${source}]`,
  );
  project.provide('kafkaBrokers', brokers);
  project.provide('schemaRegistryUrl', registry);
  project.provide('infraSource', source);
  // The user and password infra/local/up.sh creates unless told otherwise.
  project.provide('kafkaSaslBrokers', sasl.brokers);
  project.provide('kafkaSslCaFile', sasl.caFile);
  project.provide(
    'kafkaSaslUsername',
    process.env.KAFKA_SASL_USERNAME ?? process.env.CHURN_KAFKA_SASL_USERNAME ?? 'churn',
  );
  project.provide(
    'kafkaSaslPassword',
    process.env.KAFKA_SASL_PASSWORD ?? process.env.CHURN_KAFKA_SASL_PASSWORD ?? 'churn-secret',
  );
  return teardown;
}
