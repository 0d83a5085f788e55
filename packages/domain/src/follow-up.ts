/**
 * Running the follow-up program (docs/policy.md, "The follow-up program" and "B2B: at-risk
 * dialogues and structural causes"): a follow-up is due when the program's cadence for
 * the customer's tier and track has passed since the last completed one; it becomes a
 * FOLLOW_UP task, and if no outcome is recorded within the grace period the owner gets
 * PROGRAM_NOT_FOLLOWED. An account-managed customer who turns at risk (detractor, overdue
 * invoice, repeated silence) gets a direct dialogue that must happen within the dialogue
 * deadline, or the executive sponsor gets DIALOGUE_OVERDUE.
 *
 * Driven by event time and by explicit clock input (`Tick`), so a replay of the same
 * events and ticks gives the same outputs.
 */
import type { CustomerValue, TaskOutcome } from '@churn/contracts';
import { rememberCustomerValue } from './decision.ts';
import { alertRecord, taskIdOf, taskRecord } from './outputs.ts';
import type { Policy, ProgramEntry } from './policy.ts';
import {
  type Emitted,
  isCustomerValue,
  isTick,
  NO_EMIT,
  type ProcessorContext,
  type ProcessorResult,
  type Tick,
} from './processor.ts';
import { alertOwnerFor, formatTime, queueFor } from './routing.ts';
import { addMonths, DAY_MS } from './time.ts';

/** The follow-up currently due for a customer. */
export interface OpenFollowUp {
  readonly taskId: string;
  /** When the follow-up became due. */
  readonly dueAt: number;
  /** End of the grace period: no outcome by then and the owner is alerted. */
  readonly deadline: number;
  readonly alerted: boolean;
}

/** An at-risk dialogue that has not happened yet. */
export interface OpenDialogue {
  readonly taskId: string;
  readonly openedAt: number;
  readonly deadline: number;
  readonly alerted: boolean;
}

/** The follow-up program's state for one customer. */
export interface FollowUpState {
  readonly value: CustomerValue | null;
  /** When the program started for the customer: sign-up if known, else when first seen. */
  readonly since: number | null;
  /** When the last follow-up (or dialogue) was completed. */
  readonly lastCompletedAt: number | null;
  readonly open: OpenFollowUp | null;
  readonly dialogue: OpenDialogue | null;
}

export type FollowUpEvent = Tick | CustomerValue | TaskOutcome;

/** Outcomes that mean the contact did not happen; every other outcome completes the task. */
const NOT_DONE = 'NO_CONTACT';

/** When the next follow-up is due after `from`, per the program entry. */
export function nextFollowUpAt(from: number, entry: ProgramEntry): number {
  return entry.unit === 'weeks' ? from + entry.every * 7 * DAY_MS : addMonths(from, entry.every);
}

/** The grace period of a cadence: a share of it (20%), at least `grace.minDays` (2 days). */
export function graceOf(policy: Policy, cadenceMs: number): number {
  return Math.max(policy.grace.shareOfCadence * cadenceMs, policy.grace.minDays * DAY_MS);
}

/** Why a customer is at risk, in plain words; empty when not. */
export function atRiskSignals(policy: Policy, value: CustomerValue): string[] {
  const signals: string[] = [];
  if (value.lastNps !== null && value.lastNps <= policy.surveys.nps.detractorMax)
    signals.push(`a detractor NPS of ${value.lastNps}`);
  if (value.overdueInvoices > 0) signals.push(`${value.overdueInvoices} overdue invoice(s)`);
  if (value.unansweredSurveys >= policy.value.silence.repeatedAfter)
    signals.push(`${value.unansweredSurveys} unanswered surveys in a row`);
  return signals;
}

function prioritised(policy: Policy, value: CustomerValue): boolean {
  return (
    policy.dialogues.tiers.includes(value.tier) &&
    value.segment !== null &&
    policy.dialogues.segments.includes(value.segment)
  );
}

function onValue(state: FollowUpState, value: CustomerValue, ctx: ProcessorContext): ProcessorResult<FollowUpState> {
  const policy = ctx.policy;
  const joined = rememberCustomerValue(state, value);
  if (joined === state) return { state, emit: NO_EMIT };
  const since = state.since ?? value.signedUpAt ?? value.asOf;
  const next: FollowUpState = { ...joined, since };
  if (state.dialogue !== null || !prioritised(policy, value)) return { state: next, emit: NO_EMIT };
  const signals = atRiskSignals(policy, value);
  const wasAtRisk = state.value !== null && atRiskSignals(policy, state.value).length > 0;
  if (signals.length === 0 || wasAtRisk) return { state: next, emit: NO_EMIT };
  const now = ctx.now;
  const seed = value.eventId ?? `value:${value.customerId}:${value.asOf}`;
  const deadline = now + policy.dialogues.deadlineDays * DAY_MS;
  const task = taskRecord(seed, 'dialogue', value.customerId, now, {
    kind: 'FOLLOW_UP',
    queue: queueFor(policy, value, 'FOLLOW_UP'),
    priority: policy.dialogues.priority,
    dueAt: deadline,
    offer: 'NONE',
    instructions: `The customer is at risk (${signals.join(', ')}). Hold a direct dialogue by ${formatTime(deadline)} and, if needed, agree a recovery plan with regular status meetings.`,
  });
  return {
    state: { ...next, dialogue: { taskId: taskIdOf(seed, 'dialogue'), openedAt: now, deadline, alerted: false } },
    emit: [task],
  };
}

function onOutcome(state: FollowUpState, outcome: TaskOutcome): ProcessorResult<FollowUpState> {
  if (outcome.outcome === NOT_DONE) return { state, emit: NO_EMIT };
  const closesFollowUp = state.open !== null && state.open.taskId === outcome.taskId;
  const closesDialogue = state.dialogue !== null && state.dialogue.taskId === outcome.taskId;
  if (!closesFollowUp && !closesDialogue) return { state, emit: NO_EMIT };
  const completed = Math.max(state.lastCompletedAt ?? outcome.occurredAt, outcome.occurredAt);
  return {
    state: {
      ...state,
      lastCompletedAt: completed,
      open: closesFollowUp ? null : state.open,
      dialogue: closesDialogue ? null : state.dialogue,
    },
    emit: NO_EMIT,
  };
}

function onTick(state: FollowUpState, at: number, policy: Policy): ProcessorResult<FollowUpState> {
  const value = state.value;
  if (value === null) return { state, emit: NO_EMIT };
  const entry = policy.tables.program[value.tier][value.track];
  const customerId = value.customerId;
  const emit: Emitted[] = [];
  let open = state.open;
  let dialogue = state.dialogue;
  const base = state.lastCompletedAt ?? state.since ?? value.signedUpAt ?? value.asOf;
  if (open === null) {
    const due = nextFollowUpAt(base, entry);
    if (at >= due) {
      // The grace period runs from when the task is created: a follow-up noticed late (the
      // first tick after a long gap) still gives the owner the whole grace period.
      const deadline = Math.max(due, at) + graceOf(policy, due - base);
      const seed = `follow-up:${customerId}:${due}`;
      emit.push(
        taskRecord(seed, 'FOLLOW_UP', customerId, at, {
          kind: 'FOLLOW_UP',
          queue: queueFor(policy, value, 'FOLLOW_UP'),
          priority: entry.priority,
          dueAt: deadline,
          offer: 'NONE',
          instructions: `Program follow-up for a tier ${value.tier} ${value.track} customer (every ${entry.every} ${entry.unit}): ${howOf(entry)}. Record the outcome by ${formatTime(deadline)}.`,
        }),
      );
      open = { taskId: taskIdOf(seed, 'FOLLOW_UP'), dueAt: due, deadline, alerted: false };
    }
  }
  if (open !== null && !open.alerted && at >= open.deadline && entry.alertWhenNotFollowed) {
    emit.push(
      alertRecord(`follow-up:${customerId}:${open.dueAt}`, 'PROGRAM_NOT_FOLLOWED', customerId, customerId, at, {
        kind: 'PROGRAM_NOT_FOLLOWED',
        severity: 'WARNING',
        owner: alertOwnerFor(policy, value),
        message: `The follow-up of tier ${value.tier} ${value.track} customer ${customerId}, due ${formatTime(open.dueAt)}, has no outcome after the grace period.`,
      }),
    );
    open = { ...open, alerted: true };
  }
  if (dialogue !== null && !dialogue.alerted && at >= dialogue.deadline) {
    emit.push(
      alertRecord(`dialogue:${dialogue.taskId}`, 'DIALOGUE_OVERDUE', customerId, customerId, at, {
        kind: 'DIALOGUE_OVERDUE',
        severity: 'CRITICAL',
        owner: value.executiveSponsor ?? policy.owners.management,
        message: `The at-risk dialogue with customer ${customerId}, opened ${formatTime(dialogue.openedAt)}, has not happened within ${policy.dialogues.deadlineDays} days.`,
      }),
    );
    dialogue = { ...dialogue, alerted: true };
  }
  if (emit.length === 0) return { state, emit: NO_EMIT };
  return { state: { ...state, open, dialogue }, emit };
}

/**
 * The earliest clock time at which a Tick can change this state or emit (what `onTick`
 * looks at): the next follow-up when none is open, the grace deadline of an open one
 * not alerted yet (when the program alerts), the deadline of an open dialogue not
 * alerted yet. Infinity when no tick can do anything until an event arrives.
 */
export function followUpDueAt(state: FollowUpState | undefined, policy: Policy): number {
  const value = state?.value ?? null;
  if (state === undefined || value === null) return Number.POSITIVE_INFINITY;
  const entry = policy.tables.program[value.tier][value.track];
  let due = Number.POSITIVE_INFINITY;
  if (state.open === null) {
    due = nextFollowUpAt(state.lastCompletedAt ?? state.since ?? value.signedUpAt ?? value.asOf, entry);
  } else if (!state.open.alerted && entry.alertWhenNotFollowed) {
    due = state.open.deadline;
  }
  if (state.dialogue !== null && !state.dialogue.alerted) due = Math.min(due, state.dialogue.deadline);
  return due;
}

function howOf(entry: ProgramEntry): string {
  switch (entry.owner) {
    case 'automated':
      return 'send the automated mail flow';
    case 'insideSales':
      return 'call the customer';
    default:
      return 'hold a status meeting or call';
  }
}

/**
 * Runs the follow-up program for one customer. `CustomerValue` events join the customer's
 * value (and may open an at-risk dialogue); `TaskOutcome` events complete follow-ups and
 * dialogues (NO_CONTACT does not); `Tick` events make follow-ups due and raise alerts when
 * deadlines pass. Idempotent: a repeated event or tick finds nothing new to do.
 */
export function scheduleFollowUps(
  event: FollowUpEvent,
  state: FollowUpState | undefined,
  ctx: ProcessorContext,
): ProcessorResult<FollowUpState> {
  const current: FollowUpState = state ?? {
    value: null,
    since: null,
    lastCompletedAt: null,
    open: null,
    dialogue: null,
  };
  if (isTick(event)) return onTick(current, event.at, ctx.policy);
  if (isCustomerValue(event)) return onValue(current, event, ctx);
  return onOutcome(current, event);
}
