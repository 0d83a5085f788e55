/**
 * What the runner's errors mean: which may pass if tried again (transient), which say
 * another instance took a partition over (fenced), and how long to wait between tries.
 */
import { ChurnError } from '@churn/contracts';
import { isProgrammerError } from './dead-letter.ts';

/**
 * A transaction failed and could not be aborted either (the broker went away during
 * commit or abort): whether it committed is unknown, and the producer cannot begin
 * another. Only a new producer with the same transactional id, fencing this one, and
 * state read back from the committed offsets and changelog can go on.
 */
export class TransactionOutcomeUnknown extends Error {
  constructor(cause: unknown) {
    super('a transaction failed and could not be aborted; its outcome is unknown', { cause });
    this.name = 'TransactionOutcomeUnknown';
  }
}

/** The topology's processor failed on a record, for good: the record goes to its dead-letter topic. */
export class ProcessingFailed extends Error {
  constructor(cause: unknown) {
    super('processing failed', { cause });
    this.name = 'ProcessingFailed';
  }
}

/**
 * Whether an error from a processor says that the same call may succeed later (a
 * ChurnError marked retriable, or an error with `retriable: true`). Nothing else is
 * tried again: domain errors and programmer errors fail the same way every time.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof ChurnError) return error.retriable;
  if (isProgrammerError(error)) return false;
  return (error as { retriable?: unknown } | null)?.retriable === true;
}

/** Whether an error is transient: worth retrying the whole batch. */
export function isTransient(error: unknown): boolean {
  if (error instanceof ChurnError) return error.retriable;
  if (isProgrammerError(error)) return false;
  const e = error as { retriable?: boolean; name?: string; type?: string };
  if (e.name === 'KafkaJSNonRetriableError' && (e as { cause?: unknown }).cause)
    return isTransient((e as { cause?: unknown }).cause);
  return (
    e.retriable === true ||
    (typeof e.name === 'string' && e.name.startsWith('KafkaJS') && e.type !== 'INVALID_PRODUCER_EPOCH')
  );
}

/** The broker refused a batch for its size. */
export function isTooLarge(error: unknown): boolean {
  const e = error as { type?: string; cause?: unknown } | null;
  if (!e) return false;
  if (e.type === 'MESSAGE_TOO_LARGE' || e.type === 'RECORD_LIST_TOO_LARGE') return true;
  return e.cause !== undefined && isTooLarge(e.cause);
}

/** Another producer with the same transactional id took over: this instance no longer owns the partition. */
export function isFenced(error: unknown): boolean {
  const e = error as { type?: string; name?: string; message?: string; cause?: unknown };
  if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED' || e.name === 'KafkaJSProducerFencedError')
    return true;
  return e.cause !== undefined && isFenced(e.cause);
}

const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 10_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The pause before try `attempt + 1`: exponential up to 10 s, half of it jittered. */
export function backoff(attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt);
  return exp / 2 + random() * (exp / 2);
}
