/**
 * For tests that read a run's logs back: a capture of every line services log, and a
 * customer whose records carry marked free text (survey comment, task note,
 * cancellation reason), which must never reach a log.
 */
import { Writable } from 'node:stream';
import { aSurveyResult, aTaskOutcome } from '@churn/contracts/testing';
import { createLogger, type Logger } from '@churn/runtime';
import { expect } from 'vitest';
import { aCancellationOf, aCustomerHistory, type History } from './customers.ts';

/** Collects every line logged through its loggers, at debug level. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly #sink = new Writable({
    write: (chunk, _encoding, done) => {
      this.add(String(chunk));
      done();
    },
  });

  /** A debug-level logger for `service` whose lines land here. */
  logger(service: string): Logger {
    return createLogger({ service, level: 'debug', destination: this.#sink });
  }

  /** Adds output captured elsewhere (a child process's stdout), one entry per line. */
  add(text: string): void {
    this.lines.push(...text.split('\n').filter(Boolean));
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Every line is JSON and none contains any of `needles` (secrets, marked free text). */
export function expectLogsFreeOf(lines: readonly string[], needles: readonly string[]): void {
  for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  const log = lines.join('\n');
  for (const needle of needles) {
    expect(needle.length, 'a needle this short proves nothing').toBeGreaterThanOrEqual(8);
    expect(log).not.toContain(needle);
  }
}

type Send = (topic: string, key: string, value: unknown) => Promise<unknown>;

/**
 * Sends a customer's history, a low survey score with a comment, a task outcome with a
 * note and a cancellation with a reason, every free text carrying `privateText`.
 * Returns the history and the cancellation sent.
 */
export async function sendCustomerWithFreeText(
  send: Send,
  privateText: string,
): Promise<{ history: History; cancellation: ReturnType<typeof aCancellationOf> }> {
  const h = aCustomerHistory({ monthlyRevenue: 20_000, monthlyCost: 10_000 });
  await send('customer.profiles.v1', h.customerId, h.profile);
  for (const invoice of h.invoices) await send('billing.invoices.v1', h.customerId, invoice);
  await send(
    'customer.surveys.v1',
    h.customerId,
    aSurveyResult({
      customerId: h.customerId,
      surveyId: `s-${h.customerId}`,
      score: 2,
      comment: `${privateText} comment`,
      occurredAt: h.now,
    }),
  );
  await send(
    'contact-center.task-outcomes.v1',
    h.customerId,
    aTaskOutcome({ customerId: h.customerId, note: `${privateText} note` }),
  );
  const cancellation = aCancellationOf(h, { reasonText: `${privateText} reason` });
  await send('customer.cancellations.v1', h.customerId, cancellation);
  return { history: h, cancellation };
}
