/**
 * Wires one or more topologies into a running process on Kafka: logger, metrics and
 * health endpoints, schema registry, one runner per topology, and a graceful shutdown
 * on SIGTERM/SIGINT (stop fetching, finish or abort the open transaction, leave the
 * group, exit 0) within SHUTDOWN_TIMEOUT_MS.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { type KafkaServiceConfig, kafkaServiceEnv, loadConfig, parseConfig } from './config.ts';
import { type OpsServer, startOpsServer } from './http.ts';
import { createKafka, serdeFromConfig } from './kafka/client.ts';
import { KafkaRunner } from './kafka/runner.ts';
import { createLogger, type Logger } from './logger.ts';
import { DEFAULT_POLICY_FILE, readJsonFile, runMain } from './main-helpers.ts';
import { PipelineMetrics } from './metrics.ts';
import type { Topology } from './topology.ts';

export interface RunningService {
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly runners: readonly KafkaRunner<unknown>[];
  readonly ops: OpsServer;
  /** Stops everything; resolves when done. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Process name in logs and the Kafka client id. */
  name: string;
  topologies: readonly Topology<unknown>[];
  config: KafkaServiceConfig;
  /** Install SIGTERM/SIGINT handlers that stop and exit. @default true */
  handleSignals?: boolean;
  logger?: Logger;
  /**
   * The time source of the runners: the wall clock that moves caught-up partitions on
   * (TICK_INTERVAL_MS), dead-letter times and latency metrics. @default Date.now
   */
  clock?: () => number;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config, name } = options;
  const logger = options.logger ?? createLogger({ service: name, level: config.LOG_LEVEL });
  const metrics = new PipelineMetrics();
  const instanceId = config.INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const serde = serdeFromConfig(config, name);
  // One logger per topology, so that `service` names the topology in every line.
  const loggerOf = (service: string) =>
    service === name ? logger : createLogger({ service, level: config.LOG_LEVEL });
  const runners = options.topologies.map(
    (topology) =>
      new KafkaRunner({
        topology,
        kafka: createKafka(config, `${topology.name}-${instanceId}`, loggerOf(topology.name)),
        serde,
        logger: loggerOf(topology.name),
        metrics,
        guarantee: config.PROCESSING_GUARANTEE,
        instanceId,
        partitions: config.TOPIC_PARTITIONS,
        replicationFactor: config.TOPIC_REPLICATION_FACTOR,
        maxRecordBytes: config.MAX_RECORD_BYTES,
        maxAttempts: config.MAX_PROCESSING_ATTEMPTS,
        tickIntervalMs: config.TICK_INTERVAL_MS,
        mergeIdleMs: config.MERGE_IDLE_MS,
        commitIntervalMs: config.COMMIT_INTERVAL_MS,
        sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
        onFatal: () => onFatal(),
        ...(options.clock ? { clock: options.clock } : {}),
      }),
  );
  const ops = await startOpsServer({
    host: config.METRICS_HOST,
    port: config.METRICS_PORT,
    registry: metrics.registry,
    sources: () => runners,
  });
  logger.info({ port: ops.port, instanceId, services: runners.map((r) => r.name) }, 'metrics and health endpoints up');

  // A process exits on a fatal runner error (an orchestrator starts it again, which
  // fences its transactions and resumes from the committed state); in-process services
  // in tests only report it through /healthz.
  let fatal = false;
  function onFatal(): void {
    if (options.handleSignals === false || fatal) return;
    fatal = true;
    const bound = setTimeout(() => process.exit(1), 5_000);
    bound.unref();
    void stop().finally(() => process.exit(1));
  }

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(runners.map((r) => r.stop()));
      await ops.close();
    })();
    return stopping;
  };

  if (options.handleSignals !== false) {
    const onSignal = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      const bound = setTimeout(() => {
        logger.error({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; exiting');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS);
      bound.unref();
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  }

  try {
    for (const runner of runners) await runner.start();
  } catch (err) {
    logger.error({ err }, 'could not start');
    await stop().catch(() => {});
    throw err;
  }
  return { logger, metrics, runners: runners as KafkaRunner<unknown>[], ops, stop };
}

/** What every service reads from the environment: Kafka, the registry, and the policy file. */
export const policyServiceEnv = {
  ...kafkaServiceEnv,
  POLICY_FILE: z.string().default(DEFAULT_POLICY_FILE),
} as const;

/** What a service's entry point says of itself. */
export interface PolicyServiceMain<P> {
  /** The service's name: its consumer group prefix, and the name in logs and metrics. */
  readonly service: string;
  /** What it does, for `--help`. */
  readonly about: string;
  /** Reads and checks the policy file's JSON. */
  readonly loadPolicy: (json: unknown) => P;
  /** The topologies it runs under a policy. */
  readonly topologies: (policy: P) => readonly Topology<unknown>[];
}

/**
 * A service's whole entry point: `--help` prints what it does, the topics it reads and
 * writes and the environment it takes (policyServiceEnv); otherwise it loads the policy
 * from POLICY_FILE and runs the topologies until SIGTERM.
 */
export function runPolicyService<P>(main: PolicyServiceMain<P>): void {
  const policyFile = (env: NodeJS.ProcessEnv) =>
    parseConfig({ POLICY_FILE: policyServiceEnv.POLICY_FILE }, env).POLICY_FILE;
  runMain(
    main.service,
    async () => {
      const config = loadConfig(policyServiceEnv, process.env, main.service);
      const policy = main.loadPolicy(readJsonFile(config.POLICY_FILE));
      await startService({ name: main.service, topologies: main.topologies(policy), config });
    },
    {
      about: main.about,
      environment: { Environment: policyServiceEnv },
      topologies: () => main.topologies(main.loadPolicy(readJsonFile(policyFile(process.env)))),
    },
  );
}
