/**
 * Detecting structural issues (docs/policy.md, "B2B: at-risk dialogues and structural
 * causes", step 2): a cancellation reason such as PRODUCT_GAP or SERVICE_ISSUE that
 * recurs across customers is management's to fix, not one account manager's. At
 * `structural.minCustomers` (5) distinct customers within `structural.windowDays` (30) a
 * STRUCTURAL_ISSUE alert goes to management, once per window.
 *
 * State is keyed by the reason, not the customer: the runner re-keys cancellations by reason.
 */
import type { CancellationReason, CancellationRequested } from '@churn/contracts';
import { deriveId, hash53 } from './ids.ts';
import { alertRecord } from './outputs.ts';
import { type Emitted, NO_EMIT, type ProcessorContext, type ProcessorResult } from './processor.ts';
import { formatTime } from './routing.ts';
import { DAY_MS } from './time.ts';
import { REASON_WORDS } from './words.ts';

export interface StructuralIssueState {
  readonly reason: CancellationReason;
  /** Two numbers per customer: hash of the customerId and the time of their latest cancellation for the reason. */
  readonly customers: readonly number[];
  /** Newest cancellation time counted; the window ends here. */
  readonly latest: number;
  /** When the last alert went out; no new alert within a window of it. */
  readonly alertedAt: number | null;
  /** Per source partition, the last midnight it has passed (0 before any): the watermark is their minimum. */
  readonly marks?: readonly number[];
  /** Cancellations at or after the watermark, counted once every partition has passed them. */
  readonly pending?: readonly PendingCancellation[];
}

interface PendingCancellation {
  readonly customerId: string;
  readonly at: number;
  readonly eventId: string;
}

const MARK_PREFIX = 'watermark:';

/**
 * A watermark for the structural count: the source partition `partition` (of
 * `partitions`) has passed midnight `at`, so every cancellation it will forward from now
 * on is later. It travels as a CancellationRequested on the internal topic, one per
 * structural reason (the count is kept per reason).
 */
export function structuralMark(
  reason: CancellationReason,
  partition: number,
  partitions: number,
  at: number,
): CancellationRequested {
  return {
    eventId: deriveId(`${MARK_PREFIX}${reason}:${partition}:${at}`, 'structural-mark'),
    occurredAt: at,
    cancellationId: `${MARK_PREFIX}${partition}/${partitions}`,
    customerId: `partition-${partition}`,
    subscriptionId: null,
    effectiveAt: null,
    channel: 'OTHER',
    reason,
    reasonText: null,
  };
}

function markOf(event: CancellationRequested): { partition: number; partitions: number } | null {
  if (!event.cancellationId.startsWith(MARK_PREFIX)) return null;
  const [p, n] = event.cancellationId.slice(MARK_PREFIX.length).split('/').map(Number);
  if (!Number.isInteger(p) || !Number.isInteger(n) || (n as number) < 1) return null;
  return { partition: p as number, partitions: n as number };
}

function watermarkOf(marks: readonly number[]): number {
  let w = Number.POSITIVE_INFINITY;
  for (const m of marks) w = Math.min(w, m);
  return marks.length === 0 || w === Number.POSITIVE_INFINITY ? 0 : w;
}

/**
 * Counts a cancellation towards its reason, in event-time order across the partitions
 * the cancellations come from: a cancellation waits until every source partition has
 * passed its time (the watermarks the route sends at each midnight), and then the
 * waiting ones count in time order (ties by event id). However the partitions
 * interleave on the way, the same cancellations give the same alerts. Cancellations of
 * other reasons than the policy's structural ones change nothing. One that arrives
 * behind the watermark (replayed from a dead-letter topic, say) counts at its own time
 * at once; the same customer counts once; the same event twice changes nothing.
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
  const marks = current.marks ?? [];
  const pending = current.pending ?? [];
  const mark = markOf(event);
  if (mark === null) {
    if (event.occurredAt < watermarkOf(marks))
      return count(current, event.customerId, event.occurredAt, event.eventId, policy);
    if (pending.some((p) => p.eventId === event.eventId)) return { state: current, emit: NO_EMIT };
    const waiting = { customerId: event.customerId, at: event.occurredAt, eventId: event.eventId };
    return { state: { ...current, pending: [...pending, waiting] }, emit: NO_EMIT };
  }
  const nextMarks = Array.from({ length: mark.partitions }, (_, i) => marks[i] ?? 0);
  nextMarks[mark.partition] = Math.max(nextMarks[mark.partition] ?? 0, event.occurredAt);
  const watermark = watermarkOf(nextMarks);
  const due = pending
    .filter((p) => p.at < watermark)
    .sort((a, b) => a.at - b.at || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  let next: StructuralIssueState = {
    ...current,
    marks: nextMarks,
    pending: due.length === 0 ? pending : pending.filter((p) => p.at >= watermark),
  };
  const emit: Emitted[] = [];
  for (const p of due) {
    const counted = count(next, p.customerId, p.at, p.eventId, policy);
    next = counted.state as StructuralIssueState;
    emit.push(...counted.emit);
  }
  return { state: next, emit: emit.length > 0 ? emit : NO_EMIT };
}

/** Counts one cancellation of `customerId` at `at` into the window; alerts when the reason reaches the threshold. */
function count(
  current: StructuralIssueState,
  customerId: string,
  at: number,
  cause: string,
  policy: ProcessorContext['policy'],
): ProcessorResult<StructuralIssueState> {
  const windowMs = policy.structural.windowDays * DAY_MS;
  const latest = Math.max(current.latest, at);
  const from = latest - windowMs;
  if (at <= from) return { state: current, emit: NO_EMIT };
  const id = hash53(customerId);
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
  const n = customers.length / 2;
  const due =
    n >= policy.structural.minCustomers && (current.alertedAt === null || latest >= current.alertedAt + windowMs);
  const next: StructuralIssueState = { ...current, customers, latest, alertedAt: due ? latest : current.alertedAt };
  if (!due) return { state: next, emit: NO_EMIT };
  const reason = current.reason;
  const alert = alertRecord(
    `structural:${reason}:${latest}`,
    'STRUCTURAL_ISSUE',
    null,
    reason,
    at,
    {
      kind: 'STRUCTURAL_ISSUE',
      severity: 'WARNING',
      owner: policy.owners.management,
      message: `${n} customers cancelled within ${policy.structural.windowDays} days because ${REASON_WORDS[reason]} (up to ${formatTime(latest)}). This looks structural (product, pricing or service), not local: it needs management's attention.`,
    },
    cause,
  );
  return { state: next, emit: [alert] };
}
