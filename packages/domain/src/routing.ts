/**
 * Who handles a customer: the owner column of the follow-up program table (docs/policy.md,
 * "The follow-up program"), turned into a task queue (`owner:<id>`, `inside-sales`,
 * `contact-center`, `automated`) and an alert owner.
 */
import type { CustomerValue, Priority, TaskKind } from '@churn/contracts';
import { type Policy, programOf } from './policy.ts';
import { DAY_MS } from './processor.ts';
import { formatTime } from './time.ts';

/** Tasks a mail flow can carry; a call or a meeting always needs a person. */
const AUTOMATABLE: ReadonlySet<TaskKind> = new Set([
  'THANK_YOU_MESSAGE',
  'EXIT_SURVEY',
  'FOLLOW_UP',
  'REFERRAL_REQUEST',
]);

function unnamedQueue(value: CustomerValue): string {
  // Business customers without a named owner go to inside sales; consumers to the contact center.
  return value.segment === 'B2B' ? 'inside-sales' : 'contact-center';
}

/** The queue a task of this kind for this customer goes to. */
export function queueFor(policy: Policy, value: CustomerValue, kind: TaskKind): string {
  const owner = programOf(policy, value.tier, value.track).owner;
  switch (owner) {
    case 'accountManager':
    case 'insideSalesOwner':
      return value.accountManager ? `owner:${value.accountManager}` : unnamedQueue(value);
    case 'insideSales':
      return unnamedQueue(value);
    case 'automated':
      return AUTOMATABLE.has(kind) ? 'automated' : unnamedQueue(value);
  }
}

/** Who an alert about this customer goes to: the named owner, or the team that holds the customer. */
export function alertOwnerFor(policy: Policy, value: CustomerValue): string {
  const owner = programOf(policy, value.tier, value.track).owner;
  if ((owner === 'accountManager' || owner === 'insideSalesOwner') && value.accountManager) return value.accountManager;
  return unnamedQueue(value);
}

/** When a task of a priority is due, never after `latest` (a cancellation's effective date). */
export function dueBy(policy: Policy, now: number, priority: Priority, latest: number | null): number {
  const due = now + policy.tables.respondWithinMs[priority];
  return latest !== null && latest < due ? latest : due;
}

const GROUP3: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Money in minor units, said in major units grouped by thousands: `612 000 DKK`. */
export function formatMoney(minor: number, currency: string, minorPerMajor: number): string {
  let major = Math.round(minor / minorPerMajor);
  let sign = '';
  if (major < 0) {
    sign = '-';
    major = -major;
  }
  if (major < 1000) return `${sign}${major} ${currency}`;
  // The usual sizes, unrolled: one concatenation instead of a string per group.
  if (major < 1_000_000) {
    const thousands = Math.floor(major / 1000);
    return `${sign}${thousands} ${GROUP3[major - thousands * 1000]} ${currency}`;
  }
  if (major < 1_000_000_000) {
    const millions = Math.floor(major / 1_000_000);
    const rest = major - millions * 1_000_000;
    const thousands = Math.floor(rest / 1000);
    return `${sign}${millions} ${GROUP3[thousands]} ${GROUP3[rest - thousands * 1000]} ${currency}`;
  }
  let text = '';
  while (major >= 1000) {
    const high = Math.floor(major / 1000);
    text = ` ${GROUP3[major - high * 1000]}${text}`;
    major = high;
  }
  return `${sign}${major}${text} ${currency}`;
}

export { formatTime };

export function days(n: number): number {
  return n * DAY_MS;
}
