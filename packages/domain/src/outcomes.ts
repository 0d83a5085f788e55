/**
 * Tracking outcomes (docs/policy.md, "Outcomes and learning"): contact-center outcomes
 * close the retention tasks a decision gave rise to and are tallied per reason and offer.
 * The tallies are kept as state only: nothing feeds them back into decisions yet, which
 * use the policy's prior probabilities. A later version will add them up and pass them
 * to the decision as `ctx.observedSaveRates`.
 */
import type { CancellationReason, ChurnDecision, Offer, TaskOutcome } from '@churn/contracts';
import { retentionTaskIdsOf, saveRateKey } from './decision.ts';
import {
  NO_EMIT,
  type ObservedSaveRates,
  type ProcessorContext,
  type ProcessorResult,
  type SaveTally,
} from './processor.ts';
import { DAY_MS } from './time.ts';

/** A retention task awaiting its outcome. */
export interface OpenRetentionTask {
  readonly reason: CancellationReason;
  readonly offer: Offer;
  readonly openedAt: number;
}

/**
 * Open retention tasks and save tallies. One ledger may serve one customer or a whole
 * partition: the processor does not care. The outcomes service keeps one per customer.
 */
export interface OutcomeLedger {
  readonly open: Readonly<Record<string, OpenRetentionTask>>;
  readonly tallies: ObservedSaveRates;
}

export type OutcomeEvent = ChurnDecision | TaskOutcome;

function isDecision(event: OutcomeEvent): event is ChurnDecision {
  return (event as ChurnDecision).decisionId !== undefined;
}

/**
 * A WIN_BACK decision opens its retention task(s); an outcome closes an open task and
 * counts towards its reason/offer: RETAINED, PAUSED and DOWNGRADED as saves, LOST as a
 * loss (policy `learning`); NO_CONTACT leaves the task open; other outcomes close it
 * without counting. Open tasks are forgotten after `learning.forgetOpenTasksAfterDays`.
 * Emits nothing: the tallies are state, and nothing reads them yet.
 */
export function trackOutcomes(
  event: OutcomeEvent,
  state: OutcomeLedger | undefined,
  ctx: ProcessorContext,
): ProcessorResult<OutcomeLedger> {
  const policy = ctx.policy;
  const current: OutcomeLedger = state ?? { open: {}, tallies: {} };
  if (isDecision(event)) {
    if (event.action !== 'WIN_BACK' || event.offer === 'NONE' || event.reason === null)
      return { state: current, emit: NO_EMIT };
    const [main, escalation] = retentionTaskIdsOf(event);
    const taskId = event.offer === 'EXECUTIVE_ESCALATION' ? escalation! : main!;
    if (current.open[taskId] !== undefined) return { state: current, emit: NO_EMIT };
    const forgetBefore = ctx.now - policy.learning.forgetOpenTasksAfterDays * DAY_MS;
    const open: Record<string, OpenRetentionTask> = {};
    for (const [id, task] of Object.entries(current.open)) if (task.openedAt >= forgetBefore) open[id] = task;
    open[taskId] = { reason: event.reason, offer: event.offer, openedAt: event.occurredAt };
    return { state: { open, tallies: current.tallies }, emit: NO_EMIT };
  }
  const task = current.open[event.taskId];
  if (task === undefined || event.outcome === 'NO_CONTACT') return { state: current, emit: NO_EMIT };
  const { [event.taskId]: _closed, ...open } = current.open;
  const saved = policy.tables.savedOutcomes.has(event.outcome);
  const lost = policy.tables.lostOutcomes.has(event.outcome);
  if (!saved && !lost) return { state: { open, tallies: current.tallies }, emit: NO_EMIT };
  const key = saveRateKey(task.reason, task.offer);
  const before = current.tallies[key] ?? { attempts: 0, saves: 0 };
  const tally: SaveTally = { attempts: before.attempts + 1, saves: before.saves + (saved ? 1 : 0) };
  return { state: { open, tallies: { ...current.tallies, [key]: tally } }, emit: NO_EMIT };
}
