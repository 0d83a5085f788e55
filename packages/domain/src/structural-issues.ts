/**
 * Detecting structural issues (domain.md section 5, step 2): a cancellation reason such as
 * PRODUCT_GAP or SERVICE_ISSUE that recurs across customers is management's to fix, not
 * one account manager's. At `structural.minCustomers` (5) distinct customers within
 * `structural.windowDays` (30) a STRUCTURAL_ISSUE alert goes to management, once per window.
 *
 * State is keyed by the reason, not the customer: the runner re-keys cancellations by reason.
 */
import type { CancellationReason, CancellationRequested } from '@churn/contracts';
import { hash53 } from './ids.ts';
import { alertRecord } from './outputs.ts';
import { NO_EMIT, type ProcessorContext, type ProcessorResult } from './processor.ts';
import { formatTime } from './routing.ts';
import { DAY_MS } from './time.ts';
import { REASON_WORDS } from './words.ts';

export interface StructuralIssueState {
  readonly reason: CancellationReason;
  /** Two numbers per customer: hash of the customerId and the time of their latest cancellation for the reason. */
  readonly customers: readonly number[];
  /** Newest cancellation time seen; the window ends here. */
  readonly latest: number;
  /** When the last alert went out; no new alert within a window of it. */
  readonly alertedAt: number | null;
}

/**
 * Counts a cancellation towards its reason. Cancellations of other reasons than the
 * policy's structural ones change nothing. Late cancellations count at their own time;
 * the same customer counts once; the same event twice changes nothing.
 */
export function detectStructuralIssues(
  event: CancellationRequested,
  state: StructuralIssueState | undefined,
  ctx: ProcessorContext,
): ProcessorResult<StructuralIssueState> {
  const policy = ctx.policy;
  const current: StructuralIssueState = state ?? { reason: event.reason, customers: [], latest: 0, alertedAt: null };
  if (!policy.tables.structuralReasons.has(event.reason) || event.reason !== current.reason) {
    return { state: current, emit: NO_EMIT };
  }
  const windowMs = policy.structural.windowDays * DAY_MS;
  const at = event.occurredAt;
  const latest = Math.max(current.latest, at);
  const from = latest - windowMs;
  if (at <= from) return { state: current, emit: NO_EMIT };
  const id = hash53(event.customerId);
  const customers: number[] = [];
  let found = false;
  for (let i = 0; i < current.customers.length; i += 2) {
    const who = current.customers[i]!;
    let when = current.customers[i + 1]!;
    if (who === id) {
      found = true;
      when = Math.max(when, at);
    }
    if (when > from) customers.push(who, when);
  }
  if (!found) customers.push(id, at);
  const count = customers.length / 2;
  const due =
    count >= policy.structural.minCustomers && (current.alertedAt === null || latest >= current.alertedAt + windowMs);
  const next: StructuralIssueState = {
    reason: current.reason,
    customers,
    latest,
    alertedAt: due ? latest : current.alertedAt,
  };
  if (!due) return { state: next, emit: NO_EMIT };
  const reason = current.reason;
  const alert = alertRecord(
    `structural:${reason}:${latest}`,
    'STRUCTURAL_ISSUE',
    null,
    reason,
    ctx.now,
    {
      kind: 'STRUCTURAL_ISSUE',
      severity: 'WARNING',
      owner: policy.owners.management,
      message: `${count} customers cancelled within ${policy.structural.windowDays} days because ${REASON_WORDS[reason]} (up to ${formatTime(latest)}). This looks structural (product, pricing or service), not local: it needs management's attention.`,
    },
    event.eventId,
  );
  return { state: next, emit: [alert] };
}
