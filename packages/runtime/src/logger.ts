/**
 * Structured JSON logs (pino) with fixed keys (`service`, `customerId`, `topic`,
 * `partition`, `offset`, `eventId`) and redaction: free-text fields of the contracts
 * (reason texts, comments, notes) and secrets never reach a log line.
 */
import { type Logger, pino } from 'pino';

/** Field names whose values are personal data or secrets, wherever they appear. */
export const REDACTED_KEYS = [
  'reasonText',
  'comment',
  'note',
  'password',
  'KAFKA_SASL_PASSWORD',
  'SCHEMA_REGISTRY_PASSWORD',
  'authorization',
  'sasl',
  'ssl',
] as const;

const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where to write; defaults to stdout. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      redact: { paths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

export type { Logger };
