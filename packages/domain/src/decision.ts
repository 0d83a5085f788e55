/**
 * Deciding on a cancellation (docs/policy.md, "Deciding on a cancellation"): weigh every offer the
 * reason allows by its expected value, win back with the best offer when that pays, let
 * the customer go gracefully otherwise (and always when the customer costs more than it
 * brings), give tier A a human dialogue, tell Sales/Marketing about cancellations before
 * payback, and explain all of it in plain language.
 */

import type {
  CancellationReason,
  CancellationRequested,
  ChurnDecision,
  ContactTask,
  CustomerValue,
  DecisionAction,
  Offer,
  OfferEvaluation,
  Priority,
  TaskOutcome,
} from '@churn/contracts';
import { ChurnError } from '@churn/contracts';
import { deriveIdAndEventId, hash53 } from './ids.ts';
import {
  type CustomerLearning,
  cancellationEvents,
  cohortChange,
  cohortOf,
  type LearnedModel,
  modelOf,
  NEW_CUSTOMER_LEARNING,
  npsBandOf,
  outcomeEvents,
} from './learning.ts';
import { type AlertSpec, alertRecord, type TaskSpec, taskIdOf, taskRecord } from './outputs.ts';
import { type CompiledOffer, minorUnitsOf, type Policy, type WeighableOffer } from './policy.ts';
import {
  type Emitted,
  isCustomerValue,
  NO_EMIT,
  type ProcessorContext,
  type ProcessorResult,
  remember,
} from './processor.ts';
import { alertOwnerFor, dueBy, formatMoney, formatTime, queueFor } from './routing.ts';
import { OFFER_WORDS, percent, REASON_WORDS } from './words.ts';

/** The decision processor's state for one customer: the latest value snapshot and the cancellations already decided. */
export interface CancellationState {
  readonly value: CustomerValue | null;
  /** eventIds of cancellations already decided, newest last, bounded by `policy.dedup.recentEvents`. */
  readonly decided: readonly string[];
  /** What learning needs of the customer (its cohort at risk, its open retention tasks), when the policy learns. */
  readonly learning?: CustomerLearning;
}

/** Any state that joins on the customer value snapshot. */
export interface ValueJoined {
  readonly value: CustomerValue | null;
}

/** Keeps the newer of the known snapshot and `snapshot` (by asOf; a tie goes to the one that arrived last). */
export function rememberCustomerValue<S extends ValueJoined>(state: S, snapshot: CustomerValue): S {
  if (state.value !== null && state.value.asOf > snapshot.asOf) return state;
  return { ...state, value: snapshot };
}

/** One weighed offer with its cost, for the explanation. */
export interface WeighedOffer extends OfferEvaluation {
  readonly offer: WeighableOffer;
  /** Minor units. */
  readonly cost: number;
}

function isEligible(offer: CompiledOffer, value: CustomerValue): boolean {
  if (value.tenureDays < offer.minTenureDays) return false;
  if (offer.segment !== null && value.segment !== offer.segment) return false;
  if (offer.requiresOwner && !value.accountManager) return false;
  return true;
}

/**
 * Every offer the reason allows this customer, with its save probability, cost and
 * expected value = p x (remaining lifetime value - offer cost) - contact cost (minor units).
 * With a learned model, p is the reason and offer's prior blended with the outcomes
 * observed, times the customer's cohort's response; without one, the policy's prior.
 */
export function weighOffers(
  policy: Policy,
  value: CustomerValue,
  reason: CancellationReason,
  learned?: { model: LearnedModel; cohort: string } | null,
): WeighedOffer[] {
  const unit = minorUnitsOf(policy, value.currency);
  const contactCost = policy.contactCost * unit;
  const out: WeighedOffer[] = [];
  for (const offer of policy.tables.offersByReason[reason]) {
    if (!isEligible(offer, value)) continue;
    const rate = learned ? learned.model.saveRate(reason, offer.offer, offer.probability, learned.cohort) : null;
    const probability = rate?.probability ?? offer.probability;
    const cost = Math.round(
      offer.marginFactor * value.margin12m + offer.revenueFactor * value.revenue12m + offer.fixedMajor * unit,
    );
    const expectedValue = Math.round(probability * (value.remainingLifetimeValue - cost) - contactCost);
    out.push({
      offer: offer.offer,
      probability,
      expectedValue,
      cost,
      prior: offer.probability,
      observedSaves: rate?.observedSaves ?? 0,
      observedTries: rate?.observedTries ?? 0,
      cohortMultiplier: rate === null ? null : rate.multiplier,
    });
  }
  return out;
}

/** The experiment arm of a customer: a stable hash of its customerId and the experiment's name; null without one. */
export function armOf(policy: Policy, customerId: string) {
  const arms = policy.tables.arms;
  if (arms.length === 0 || policy.experiment === null) return null;
  const bucket = hash53(`${policy.experiment.name}:${customerId}`) / 2 ** 53;
  return arms.find((a) => bucket < a.upTo) ?? (arms[arms.length - 1] as (typeof arms)[number]);
}

/** The value a decision uses: with a learned model, remaining lifetime from the cohort's learned hazard. */
interface ValueUsed {
  readonly value: CustomerValue;
  readonly hazard: number | null;
  readonly reasons: readonly string[];
}

const NO_REASONS: readonly string[] = Object.freeze([]);

const NPS_WORDS: Readonly<Record<string, string>> = {
  promoter: 'promoters',
  passive: 'passives',
  detractor: 'detractors',
  silent: 'customers who stay silent when asked',
  'never-asked': 'customers never asked for their NPS',
};

function valueUsed(policy: Policy, value: CustomerValue, learned: { model: LearnedModel; cohort: string }): ValueUsed {
  const silent = value.unansweredSurveys >= policy.value.silence.repeatedAfter;
  const prior = silent
    ? Math.min(1, policy.value.monthlyChurnRate * policy.value.silence.churnRateFactor)
    : policy.value.monthlyChurnRate;
  const cap = policy.value.remainingMonthsCap;
  const hazard = learned.model.hazard(learned.cohort, prior);
  const priorMonths = Math.min(cap, 1 / prior);
  const months = Math.min(cap, 1 / hazard.rate);
  const remainingLifetimeValue = Math.round((value.remainingLifetimeValue * months) / priorMonths);
  const [segment, , tenure] = learned.cohort.split(':');
  const who = `${segment} ${NPS_WORDS[npsBandOf(policy, value)] ?? 'customers'} ${tenure === undefined ? '' : `in their ${tenure.replace('m', ' months').replace('+', ' and more')} `}`;
  const evidence =
    hazard.exposureMonths > 0
      ? ` (${hazard.cancellations} cancellations over ${Math.round(hazard.exposureMonths)} customer-months in this cohort)`
      : '';
  return {
    value: { ...value, remainingLifetimeValue },
    hazard: hazard.rate,
    reasons: [
      `${who.trim().replace(/^./, (c) => c.toUpperCase())} leave about ${percent(hazard.rate, 1)} a month here, against the policy's ${percent(prior, 1)}${evidence}, so about ${Math.round(months)} months of margin remain${months >= cap ? ' (the cap)' : ''}.`,
    ],
  };
}

/** A snapshot for a customer of whom nothing is known yet (tier D, RETAIN, no owner), so a decision can still carry one. */
export function unknownCustomerValue(customerId: string, now: number, policy: Policy): CustomerValue {
  return {
    customerId,
    asOf: now,
    currency: policy.money.currencyWhenUnknown,
    revenue12m: 0,
    margin12m: 0,
    tier: 'D',
    track: 'RETAIN',
    tenureDays: 0,
    acquisitionCost: 0,
    cumulativeMargin: 0,
    paybackReached: true,
    remainingLifetimeValue: 0,
    overdueInvoices: 0,
    lastNps: null,
    unansweredSurveys: 0,
    eventId: null,
    causationId: null,
    segment: null,
    accountManager: null,
    executiveSponsor: null,
    signedUpAt: null,
  };
}

interface Plan {
  action: DecisionAction;
  offer: Offer;
  expectedValue: number;
  tasks: { role: string; spec: TaskSpec }[];
  alerts: { role: string; spec: AlertSpec }[];
  reasons: string[];
}

const THANK_YOU = 'Thank the customer for the time together, whatever they decide.';

function offboarding(
  policy: Policy,
  value: CustomerValue,
  now: number,
  effectiveAt: number | null,
  priority: Priority,
  queueOverride: string | null,
): Plan['tasks'] {
  const due = dueBy(policy, now, priority, effectiveAt);
  const queue = (kind: 'THANK_YOU_MESSAGE' | 'EXIT_SURVEY' | 'OFFBOARDING_CALL') =>
    queueOverride ?? queueFor(policy, value, kind);
  const tasks: Plan['tasks'] = [
    {
      role: 'THANK_YOU_MESSAGE',
      spec: {
        kind: 'THANK_YOU_MESSAGE',
        queue: queue('THANK_YOU_MESSAGE'),
        priority,
        dueAt: due,
        offer: 'NONE',
        instructions: `${THANK_YOU} Do not offer a discount, pause or bonus.`,
      },
    },
    {
      role: 'EXIT_SURVEY',
      spec: {
        kind: 'EXIT_SURVEY',
        queue: queue('EXIT_SURVEY'),
        priority,
        dueAt: due,
        offer: 'NONE',
        instructions: 'Send the exit survey: learn why the customer leaves.',
      },
    },
  ];
  if (value.segment === 'B2B') {
    tasks.push({
      role: 'OFFBOARDING_CALL',
      spec: {
        kind: 'OFFBOARDING_CALL',
        queue: queue('OFFBOARDING_CALL'),
        priority,
        dueAt: due,
        offer: 'NONE',
        instructions:
          'Agree an orderly handover with the customer: data export, open invoices, end date. Thank them for the cooperation.',
      },
    });
  }
  return tasks;
}

/** Where a learned probability came from, in words; nothing for the policy's prior alone. */
function evidenceOf(w: WeighedOffer): string {
  if (w.cohortMultiplier === null) return '';
  const parts = [`the policy's prior ${percent(w.prior ?? w.probability)}`];
  parts.push(
    w.observedTries > 0
      ? `${w.observedSaves} of ${w.observedTries} customers offered it for this reason stayed`
      : 'no outcomes of it for this reason yet',
  );
  if (Math.abs(w.cohortMultiplier - 1) >= 0.005)
    parts.push(`customers like this one respond ${w.cohortMultiplier.toFixed(2)} times as well as the average`);
  return ` (${parts.join('; ')})`;
}

function best(weighed: readonly WeighedOffer[]): WeighedOffer | null {
  let top: WeighedOffer | null = null;
  for (const w of weighed) if (top === null || w.expectedValue > top.expectedValue) top = w;
  return top;
}

function planFor(
  policy: Policy,
  value: CustomerValue,
  event: CancellationRequested,
  now: number,
  weighed: readonly WeighedOffer[],
  valueReasons: readonly string[] = [],
): Plan {
  const unit = minorUnitsOf(policy, value.currency);
  const money = (minor: number) => formatMoney(minor, value.currency, unit);
  const reasons: string[] = [
    `Revenue over the last ${policy.value.windowMonths} months is ${money(value.revenue12m)} (tier ${value.tier}, ${value.track} track); margin is ${money(value.margin12m)}.`,
    value.paybackReached
      ? `The customer has paid back its acquisition cost (${money(value.cumulativeMargin)} margin earned against ${money(value.acquisitionCost)}).`
      : `The customer has not yet paid back its acquisition cost (${money(value.cumulativeMargin)} margin earned against ${money(value.acquisitionCost)}).`,
    `The customer cancels because ${REASON_WORDS[event.reason]}.`,
  ];
  const tasks: Plan['tasks'] = [];
  const alerts: Plan['alerts'] = [];
  const effectiveAt = event.effectiveAt;
  if (!value.paybackReached) {
    alerts.push({
      role: 'EARLY_TENURE_CANCELLATION',
      spec: {
        kind: 'EARLY_TENURE_CANCELLATION',
        severity: 'WARNING',
        owner: policy.owners.salesMarketing,
        message: `Customer ${value.customerId} cancels after ${value.tenureDays} days, before paying back its acquisition cost (${money(value.cumulativeMargin)} of ${money(value.acquisitionCost)}); reason: ${event.reason}. The expectations set in the sale were probably not met.`,
      },
    });
  }
  if (value.margin12m <= 0) {
    reasons.push(
      `The customer costs more than it brings (margin over the last ${policy.value.windowMonths} months is not positive), so no discount, pause or bonus is offered: we let them go gracefully, thank them and ask for feedback.`,
    );
    const priority = policy.decision.offboardingPriority;
    return {
      action: 'GRACEFUL_OFFBOARDING',
      offer: 'NONE',
      expectedValue: 0,
      tasks: offboarding(policy, value, now, effectiveAt, priority, null),
      alerts,
      reasons,
    };
  }
  for (const r of valueReasons) reasons.push(r);
  reasons.push(`Remaining lifetime value is estimated at ${money(value.remainingLifetimeValue)}.`);
  if (weighed.length === 0) reasons.push('No offer is allowed for this reason and customer.');
  for (const w of weighed) {
    reasons.push(
      `Offering ${OFFER_WORDS[w.offer]}: ${percent(w.probability)} chance to keep the customer${evidenceOf(w)}, costs ${money(w.cost)}, expected value ${money(w.expectedValue)}.`,
    );
  }
  const top = best(weighed);
  const pays = top !== null && top.expectedValue > 0;
  if (policy.tables.humanDialogueTiers.has(value.tier)) {
    // Tier A always gets a person: for B2B the account manager meets the customer, for
    // B2C a priority call. The dialogue is how the offer is brought (the task's kind,
    // queue, priority and instructions); the task carries the offer decided, the best
    // paying one, or for B2B the meeting itself when none pays, so that the contact
    // center and the outcomes credit the offer that was made. An escalation reason adds
    // the executive sponsor's task and makes EXECUTIVE_ESCALATION the decision's offer;
    // its expected value is that of the offer the dialogue brings.
    const escalate = policy.tables.escalationReasons.has(event.reason);
    const b2b = value.segment === 'B2B';
    const carried: Offer = pays ? top.offer : b2b ? 'ACCOUNT_MANAGER_MEETING' : 'NONE';
    const carriedValue = weighed.find((w) => w.offer === carried)?.expectedValue ?? 0;
    const due = dueBy(policy, now, 'P1', effectiveAt);
    const owner = alertOwnerFor(policy, value);
    reasons.push(
      b2b
        ? `A tier ${value.tier} customer always gets a personal dialogue: the account manager meets the customer${pays ? ` and brings ${OFFER_WORDS[carried]}` : ''}.`
        : `A tier ${value.tier} customer always gets a personal dialogue: a priority retention call${pays ? ` offering ${OFFER_WORDS[carried]}` : ''}.`,
    );
    tasks.push({
      role: 'RETENTION_CALL',
      spec: {
        kind: 'RETENTION_CALL',
        queue: queueFor(policy, value, 'RETENTION_CALL'),
        priority: 'P1',
        dueAt: due,
        offer: carried,
        instructions: b2b
          ? `Meet the customer before the cancellation takes effect${pays ? ` and present ${OFFER_WORDS[carried]}` : ''}. ${THANK_YOU}`
          : `Call the customer within 24 hours${pays ? ` and offer ${OFFER_WORDS[carried]}` : ' and listen'}. ${THANK_YOU}`,
      },
    });
    if (escalate) {
      const sponsor = value.executiveSponsor;
      reasons.push(
        `The customer leaves because ${REASON_WORDS[event.reason]}: the executive sponsor is involved at once.`,
      );
      tasks.push({
        role: 'RETENTION_CALL:escalation',
        spec: {
          kind: 'RETENTION_CALL',
          queue: sponsor ? `owner:${sponsor}` : queueFor(policy, value, 'RETENTION_CALL'),
          priority: 'P1',
          dueAt: due,
          offer: 'EXECUTIVE_ESCALATION',
          instructions: `Call the customer's leadership as executive sponsor: the customer cancels because ${REASON_WORDS[event.reason]}.`,
        },
      });
    }
    alerts.push({
      role: 'HIGH_VALUE_AT_RISK',
      spec: {
        kind: 'HIGH_VALUE_AT_RISK',
        severity: 'CRITICAL',
        owner,
        message: `Tier ${value.tier} customer ${value.customerId} (${money(value.revenue12m)} revenue over ${policy.value.windowMonths} months) asked to cancel because ${REASON_WORDS[event.reason]}. Respond by ${formatTime(due)}.`,
      },
    });
    return {
      action: 'WIN_BACK',
      offer: escalate ? 'EXECUTIVE_ESCALATION' : carried,
      expectedValue: carriedValue,
      tasks,
      alerts,
      reasons,
    };
  }
  if (pays) {
    const priority = policy.decision.winBackPriority[value.tier];
    reasons.push(
      `The best offer is ${OFFER_WORDS[top.offer]} with a positive expected value of ${money(top.expectedValue)}, so we try to win the customer back.`,
    );
    tasks.push({
      role: 'RETENTION_CALL',
      spec: {
        kind: 'RETENTION_CALL',
        queue: queueFor(policy, value, 'RETENTION_CALL'),
        priority,
        dueAt: dueBy(policy, now, priority, effectiveAt),
        offer: top.offer,
        instructions: `Contact the customer before the cancellation takes effect and offer ${OFFER_WORDS[top.offer]}. ${THANK_YOU}`,
      },
    });
    return { action: 'WIN_BACK', offer: top.offer, expectedValue: top.expectedValue, tasks, alerts, reasons };
  }
  reasons.push(
    top === null
      ? 'With no offer to make, we let the customer go gracefully: thank them and ask for feedback.'
      : `No offer is worth its cost (the best, ${OFFER_WORDS[top.offer]}, has an expected value of ${money(top.expectedValue)}), so we let the customer go gracefully: thank them and ask for feedback.`,
  );
  return {
    action: 'GRACEFUL_OFFBOARDING',
    offer: 'NONE',
    expectedValue: 0,
    tasks: offboarding(policy, value, now, effectiveAt, policy.decision.offboardingPriority, null),
    alerts,
    reasons,
  };
}

/** Ids of the retention tasks a decision gives rise to, so outcomes can be credited to its reason and offer. */
export function retentionTaskIdsOf(decision: Pick<ChurnDecision, 'causationId'>): string[] {
  return [
    taskIdOf(decision.causationId, 'RETENTION_CALL'),
    taskIdOf(decision.causationId, 'RETENTION_CALL:escalation'),
  ];
}

export type CancellationEvent = CancellationRequested | CustomerValue | TaskOutcome;

function isTaskOutcome(event: CancellationEvent): event is TaskOutcome {
  return (event as TaskOutcome).taskId !== undefined && (event as TaskOutcome).outcome !== undefined;
}

/**
 * Decides on a cancellation (docs/policy.md, "Deciding on a cancellation") and emits the
 * `ChurnDecision` (keyed by customerId), its contact tasks and its alerts. A
 * `CustomerValue` event only updates the joined snapshot. A cancellation already decided
 * (same eventId) emits nothing.
 *
 * When the policy learns (docs/policy.md, "Outcomes and learning"), the decision uses the
 * learning snapshot of its day (`ctx.learned`) for the save probabilities and the remaining
 * lifetime, and tells the learning stage what it needs: the customer's cohort changes,
 * the cancellation, and the outcome of its retention task (a `TaskOutcome` event). With
 * an experiment, the customer's arm decides; with a shadow policy, the shadow decides too
 * and publishes only its decision.
 *
 * A cancellation for a customer whose profile was never seen breaks the contract's
 * meaning (every customer has a profile before anything else): it throws
 * CHURN_UNKNOWN_CUSTOMER, and the runner sends it to the dead-letter topic, from where it
 * can be replayed once the profile is there.
 */
export function decideOnCancellation(
  event: CancellationEvent,
  state: CancellationState | undefined,
  ctx: ProcessorContext,
): ProcessorResult<CancellationState> {
  const current: CancellationState = state ?? { value: null, decided: [] };
  const policy = ctx.policy;
  const learns = policy.learning.enabled;
  if (isCustomerValue(event)) {
    const remembered = rememberCustomerValue(current, event);
    if (!learns || remembered === current) return { state: remembered, emit: NO_EMIT };
    const cause = event.eventId ?? `value:${event.customerId}:${event.asOf}`;
    const change = cohortChange(policy, current.learning ?? NEW_CUSTOMER_LEARNING, event, cause, ctx.now);
    if (change.emit.length === 0) return { state: remembered, emit: NO_EMIT };
    return { state: { ...remembered, learning: change.learning }, emit: change.emit };
  }
  if (isTaskOutcome(event)) {
    if (!learns) return { state: current, emit: NO_EMIT };
    const closed = outcomeEvents(policy, current.learning ?? NEW_CUSTOMER_LEARNING, current.value, event, ctx.now);
    if (closed.emit.length === 0 && closed.learning === current.learning) return { state: current, emit: NO_EMIT };
    return { state: { ...current, learning: closed.learning }, emit: closed.emit };
  }
  if (current.decided.includes(event.eventId)) return { state: current, emit: NO_EMIT };
  const now = ctx.now;
  const known = current.value;
  if (known === null || known.signedUpAt == null) {
    throw new ChurnError(
      'CHURN_UNKNOWN_CUSTOMER',
      'cancellation for a customer whose profile has not been seen; replay it once the profile is there',
    );
  }
  const arm = armOf(policy, event.customerId);
  const decider = arm?.policy ?? policy;
  const cohort = learns ? cohortOf(policy, known) : null;
  const { decision, plan } = decide(
    decider,
    known,
    event,
    now,
    cohort,
    learns ? (ctx.learned ?? null) : null,
    'decision',
    arm?.name ?? null,
  );
  const cause = event.eventId;
  const emit: Emitted[] = [{ topic: 'churn.decisions.v1', key: event.customerId, value: decision }];
  for (const t of plan.tasks) emit.push(taskRecord(cause, t.role, event.customerId, now, t.spec));
  for (const a of plan.alerts) emit.push(alertRecord(cause, a.role, event.customerId, event.customerId, now, a.spec));
  const shadow = policy.tables.shadow;
  if (shadow !== null) {
    const shadowed = decide(
      shadow,
      known,
      event,
      now,
      cohort,
      learns ? (ctx.learned ?? null) : null,
      'shadow-decision',
    );
    emit.push({ topic: 'churn.decisions.shadow.v1', key: event.customerId, value: shadowed.decision });
  }
  let learning = current.learning;
  if (learns) {
    const main = plan.tasks[0];
    const retention =
      plan.action === 'WIN_BACK' && main?.role === 'RETENTION_CALL' && isWeighable(main.spec.offer)
        ? {
            // The first task record emitted, right after the decision: its id, not a new hash.
            taskId: ((emit[1] as Emitted).value as ContactTask).taskId,
            reason: event.reason,
            offer: main.spec.offer,
            arm: arm?.name ?? null,
          }
        : null;
    const left = cancellationEvents(
      policy,
      learning ?? NEW_CUSTOMER_LEARNING,
      known,
      decision.decisionId,
      now,
      retention,
      cohort ?? undefined,
    );
    learning = left.learning;
    for (const e of left.emit) emit.push(e);
  }
  const decided = remember(current.decided, cause, policy.dedup.recentEvents);
  return {
    state: learning === undefined ? { value: current.value, decided } : { value: current.value, decided, learning },
    emit,
  };
}

function isWeighable(offer: Offer): boolean {
  return offer !== 'NONE' && offer !== 'EXECUTIVE_ESCALATION';
}

/** One policy's decision on a cancellation, with the plan behind it. */
function decide(
  policy: Policy,
  known: CustomerValue,
  event: CancellationRequested,
  now: number,
  cohort: string | null,
  snapshot: ProcessorContext['learned'],
  role: 'decision' | 'shadow-decision',
  arm: string | null = null,
): { decision: ChurnDecision; plan: Plan } {
  const learned =
    cohort !== null && snapshot !== null && snapshot !== undefined && policy.learning.enabled
      ? { model: modelOf(policy, snapshot), cohort }
      : null;
  // Without a learned model the value is the one kept, as it is (no object on the hot path).
  const used = learned === null ? null : valueUsed(policy, known, learned);
  const value = used === null ? known : used.value;
  const weighed = value.margin12m > 0 ? weighOffers(policy, value, event.reason, learned) : [];
  const plan = planFor(policy, value, event, now, weighed, used === null ? NO_REASONS : used.reasons);
  const first = plan.tasks[0]!.spec;
  const respondBy = first.dueAt;
  plan.reasons.push(`Respond by ${formatTime(respondBy)} (${first.priority}).`);
  const cause = event.eventId;
  const ids = deriveIdAndEventId(cause, role);
  const decision: ChurnDecision = {
    eventId: ids.eventId,
    occurredAt: now,
    decisionId: ids.id,
    customerId: event.customerId,
    cancellationId: event.cancellationId,
    causationId: cause,
    action: plan.action,
    offer: plan.offer,
    tier: value.tier,
    track: value.track,
    expectedValue: plan.expectedValue,
    offersWeighed: weighed.map(
      (w): OfferEvaluation => ({
        offer: w.offer,
        probability: w.probability,
        expectedValue: w.expectedValue,
        prior: w.prior,
        observedSaves: w.observedSaves,
        observedTries: w.observedTries,
        cohortMultiplier: w.cohortMultiplier,
      }),
    ),
    reasons: plan.reasons,
    policyVersion: policy.version,
    respondBy,
    value,
    reason: event.reason,
    priority: first.priority,
    arm,
    cohort,
    monthlyChurnHazard: used === null ? null : used.hazard,
    learnedAsOf: learned === null ? null : learned.model.asOf,
  };
  return { decision, plan };
}
