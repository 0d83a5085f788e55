/**
 * Tracking outcomes (domain.md section 7, Outcomes): contact-center outcomes close the
 * retention tasks a decision gave rise to and feed the observed save rate per reason and
 * offer, which the decision blends in once a pair has enough outcomes.
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
 * partition: the processor does not care. Merge tallies across ledgers with {@link mergeSaveRates}.
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
 * Emits nothing: the tallies are state, read by the runner into `ctx.observedSaveRates`.
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

/** Adds up the tallies of several ledgers (one per partition, say) into the rates the decision reads. */
export function mergeSaveRates(...rates: readonly ObservedSaveRates[]): ObservedSaveRates {
  const out: Record<string, SaveTally> = {};
  for (const r of rates) {
    for (const [key, t] of Object.entries(r)) {
      const before = out[key];
      out[key] = before ? { attempts: before.attempts + t.attempts, saves: before.saves + t.saves } : t;
    }
  }
  return out;
}
