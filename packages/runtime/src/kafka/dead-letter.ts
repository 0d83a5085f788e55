import { ChurnError, ContractViolation, deadLetterTopicOf } from '@churn/contracts';
import type { IHeaders, Message } from 'kafkajs';

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
