/**
 * Configuration from the environment, validated once at start-up with zod. Every
 * problem is reported with the variable's name; the process exits non-zero. Services
 * call {@link loadConfig} from their main and pass the frozen result down: nothing
 * else reads `process.env`.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/** The settings every Kafka service shares. */
export const kafkaServiceEnv = {
  KAFKA_BROKERS: z
    .string({ error: 'is required: comma-separated host:port list of Kafka brokers' })
    .min(1)
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  /** PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL. */
  KAFKA_SECURITY_PROTOCOL: z.enum(['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL']).default('PLAINTEXT'),
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-512', 'scram-sha-256', 'plain']).default('scram-sha-512'),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** PEM file of the CA that signed the brokers' certificates. */
  KAFKA_SSL_CA_FILE: z.string().optional(),
  KAFKA_SSL_REJECT_UNAUTHORIZED: bool.default(true),
  SCHEMA_REGISTRY_URL: z.url({ error: 'is required: URL of the Confluent-compatible schema registry API' }),
  SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
  /** exactly_once: one Kafka transaction per batch; at_least_once: faster, may repeat outputs after a crash. */
  PROCESSING_GUARANTEE: z.enum(['exactly_once', 'at_least_once']).default('exactly_once'),
  /** Partitions of the topics the pipeline creates when they are missing. */
  TOPIC_PARTITIONS: int(1, 1000).default(3),
  TOPIC_REPLICATION_FACTOR: int(1, 10).default(1),
  /** Records larger than this go to the dead-letter topic. */
  MAX_RECORD_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
  /** Attempts for a record whose processing fails with a retriable error; other errors dead-letter it at once. */
  MAX_PROCESSING_ATTEMPTS: int(1, 100).default(3),
  /** Upper bound for a graceful shutdown before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: int(1000, 600_000).default(25_000),
  /** How often a caught-up partition's clock is moved on to the wall clock; 0 turns it off. */
  TICK_INTERVAL_MS: int(0, 86_400_000).default(60_000),
  /** How long the event-time merge waits for an input whose next records are not fetched yet. */
  MERGE_IDLE_MS: int(0, 600_000).default(2_000),
  /** How long a transaction with only state changes and offsets stays open for more records; 0: commit every chunk. */
  COMMIT_INTERVAL_MS: int(0, 60_000).default(100),
  /** How long the group waits for a silent instance before its partitions move to the others. */
  KAFKA_SESSION_TIMEOUT_MS: int(6000, 300_000).default(30_000),
  METRICS_PORT: int(0, 65535).default(9464),
  METRICS_HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  POLICY_FILE: z.string().optional(),
  INSTANCE_ID: z.string().min(1).optional(),
} as const;

export type EnvShape = Record<string, z.ZodType>;

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parses `env` against `shape`; throws a ConfigError that lists every bad variable. */
export function parseConfig<S extends EnvShape>(
  shape: S,
  env: Record<string, string | undefined>,
): Readonly<z.output<z.ZodObject<S>>> {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.map(String).join('.') || '(environment)'}: ${i.message}`),
    );
  }
  const value = result.data as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof value.KAFKA_SECURITY_PROTOCOL === 'string' && value.KAFKA_SECURITY_PROTOCOL.startsWith('SASL')) {
    if (!value.KAFKA_SASL_USERNAME) problems.push('KAFKA_SASL_USERNAME: is required with a SASL security protocol');
    if (!value.KAFKA_SASL_PASSWORD) problems.push('KAFKA_SASL_PASSWORD: is required with a SASL security protocol');
  }
  if (Boolean(value.SCHEMA_REGISTRY_USERNAME) !== Boolean(value.SCHEMA_REGISTRY_PASSWORD)) {
    problems.push('SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD: give both or neither');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(result.data) as Readonly<z.output<z.ZodObject<S>>>;
}

/**
 * For a service's main: parse the environment or print every problem and exit 1.
 */
export function loadConfig<S extends EnvShape>(
  shape: S,
  env: Record<string, string | undefined>,
  service: string,
): Readonly<z.output<z.ZodObject<S>>> {
  try {
    return parseConfig(shape, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export type KafkaServiceConfig = Readonly<z.output<z.ZodObject<typeof kafkaServiceEnv>>>;
