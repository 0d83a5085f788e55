import { ChurnError, ContractViolation, deadLetterTopicOf } from '@churn/contracts';
import type { IHeaders, Message } from 'kafkajs';
import type { Logger } from '../logger.ts';

/** Why a record went to its dead-letter topic. */
export type DeadLetterKind = 'decode' | 'validation' | 'processing';

export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders | undefined;
}

/** Header names of a dead letter; the original headers are kept beside them. */
export const DLQ_HEADERS = {
  kind: 'churn.error.kind',
  code: 'churn.error.code',
  message: 'churn.error.message',
  topic: 'churn.source.topic',
  partition: 'churn.source.partition',
  offset: 'churn.source.offset',
  service: 'churn.service',
  failedAt: 'churn.failed.at',
  attempts: 'churn.attempts',
} as const;

export function classify(error: unknown): { kind: DeadLetterKind; code: string } {
  if (error instanceof ContractViolation) return { kind: 'validation', code: error.code };
  if (error instanceof ChurnError) {
    const decode = ['CHURN_WIRE_FORMAT', 'CHURN_AVRO_DECODE', 'CHURN_SCHEMA_UNKNOWN', 'CHURN_SCHEMA_MISMATCH'];
    if (decode.includes(error.code)) return { kind: 'decode', code: error.code };
    if (['CHURN_KEY_MISMATCH', 'CHURN_RECORD_TOO_LARGE', 'CHURN_UNKNOWN_CUSTOMER'].includes(error.code))
      return { kind: 'validation', code: error.code };
    return { kind: 'processing', code: error.code };
  }
  return { kind: 'processing', code: error instanceof Error ? error.name : 'UNKNOWN' };
}

/** Programmer errors are never retried: the same input will fail the same way. */
export function isProgrammerError(error: unknown): boolean {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  );
}

/** The dead letter of a record: its original key, value and headers, plus why. */
export function deadLetterOf(
  source: DeadLetterSource,
  error: unknown,
  service: string,
  attempts: number,
  at: Date,
): { topic: string; message: Message } {
  const { kind, code } = classify(error);
  const text = error instanceof Error ? error.message : String(error);
  return {
    topic: deadLetterTopicOf(source.topic),
    message: {
      key: source.key,
      value: source.value,
      partition: source.partition,
      headers: {
        ...(source.headers ?? {}),
        [DLQ_HEADERS.kind]: kind,
        [DLQ_HEADERS.code]: code,
        [DLQ_HEADERS.message]: text.slice(0, 2000),
        [DLQ_HEADERS.topic]: source.topic,
        [DLQ_HEADERS.partition]: String(source.partition),
        [DLQ_HEADERS.offset]: source.offset,
        [DLQ_HEADERS.service]: service,
        [DLQ_HEADERS.failedAt]: at.toISOString(),
        [DLQ_HEADERS.attempts]: String(attempts),
      },
    },
  };
}

/** Where a transaction takes dead letters: beside its outputs, counted once it commits. */
export interface DeadLetterSink {
  push(topic: string, message: Message): void;
  readonly deadLetters: Array<{ topic: string; code: string }>;
}

/**
 * Sends bad records to their dead-letter topic, within the transaction that consumes
 * them: the original bytes, and why in headers. One warning per record.
 */
export class DeadLetters {
  readonly #service: string;
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(service: string, now: () => number, log: Logger) {
    this.#service = service;
    this.#now = now;
    this.#log = log;
  }

  send(into: DeadLetterSink, source: DeadLetterSource, error: unknown, attempts: number): void {
    const dead = deadLetterOf(source, error, this.#service, attempts, new Date(this.#now()));
    into.push(dead.topic, dead.message);
    const { kind, code } = classify(error);
    // Counted once the transaction commits, so a retried chunk counts once.
    into.deadLetters.push({ topic: source.topic, code });
    this.#log.warn(
      {
        topic: source.topic,
        partition: source.partition,
        offset: source.offset,
        kind,
        code,
        attempts,
        error: (error as Error).message,
      },
      'record sent to the dead-letter topic',
    );
  }
}
