import { readFileSync } from 'node:fs';
import { ContractSerde } from '@churn/serde';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import type { KafkaServiceConfig } from '../config.ts';
import type { Logger } from '../logger.ts';

/**
 * kafkajs 2.2.4 schedules its request-queue check with a negative delay when it is not
 * throttled; Node >= 23 then prints a TimeoutNegativeWarning (the timer fires after
 * 1 ms, as intended). The warning says nothing about this process, so it is dropped.
 */
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const name = typeof warning === 'string' ? (rest[0] as { type?: string } | string | undefined) : warning;
  const type =
    typeof name === 'string'
      ? name
      : ((name as { type?: string; name?: string } | undefined)?.type ?? (name as Error | undefined)?.name);
  if (type === 'TimeoutNegativeWarning') return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client from the service configuration, logging through pino (kafkajs info is debug here). */
export function createKafka(config: KafkaServiceConfig, clientId: string, logger: Logger): Kafka {
  const protocol = config.KAFKA_SECURITY_PROTOCOL;
  const options: KafkaConfig = {
    clientId: config.KAFKA_CLIENT_ID ?? clientId,
    brokers: [...config.KAFKA_BROKERS],
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        const pinoLevel = LEVELS[level] ?? 'info';
        // kafkajs reports every retried request as an error; those are transient and
        // retried, so they are warnings here.
        logger[
          pinoLevel === 'error' && (extra as { retryCount?: number }).retryCount !== undefined ? 'warn' : pinoLevel
        ]({ kafkajs: extra.namespace ?? extra.logger, broker: extra.broker, error: extra.error }, message);
      },
    retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 10_000 },
  };
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    options.ssl = {
      rejectUnauthorized: config.KAFKA_SSL_REJECT_UNAUTHORIZED,
      ...(config.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8')] } : {}),
    };
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    options.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME ?? '',
      password: config.KAFKA_SASL_PASSWORD ?? '',
    } as SASLOptions;
  }
  return new Kafka(options);
}

/** A serde for the configured schema registry, with basic auth when both credentials are set. */
export function serdeFromConfig(config: KafkaServiceConfig, clientId: string): ContractSerde {
  const { SCHEMA_REGISTRY_USERNAME: username, SCHEMA_REGISTRY_PASSWORD: password } = config;
  return new ContractSerde({
    url: config.SCHEMA_REGISTRY_URL,
    auth: username && password ? { username, password } : undefined,
    clientId,
  });
}

/** Deletes a throw-away consumer group (a reader's, a restore's); a group still in use stays. */
export async function deleteConsumerGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]).catch(() => {});
  } finally {
    await admin.disconnect();
  }
}
