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
  CustomerValue,
  DecisionAction,
  Offer,
  OfferEvaluation,
  Priority,
} from '@churn/contracts';
import { ChurnError } from '@churn/contracts';
import { deriveIdAndEventId } from './ids.ts';
import { type AlertSpec, alertRecord, type TaskSpec, taskIdOf, taskRecord } from './outputs.ts';
import { type CompiledOffer, minorUnitsOf, type Policy, type WeighableOffer } from './policy.ts';
import {
  type Emitted,
  isCustomerValue,
  NO_EMIT,
  type ObservedSaveRates,
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

/** The key of a reason/offer pair in {@link ObservedSaveRates}. */
export function saveRateKey(reason: CancellationReason, offer: Offer): string {
  return `${reason}/${offer}`;
}

/**
 * The save probability used for an offer: the policy's, blended with the observed rate
 * once the pair has at least `learning.minSampleSize` outcomes, weighting the policy's
 * prior as `learning.priorWeight` outcomes.
 */
export function saveProbability(
  policy: Policy,
  reason: CancellationReason,
  offer: CompiledOffer,
  observed: ObservedSaveRates | undefined,
): number {
  if (observed === undefined) return offer.probability;
  const tally = observed[saveRateKey(reason, offer.offer)];
  if (tally === undefined || tally.attempts < policy.learning.minSampleSize) return offer.probability;
  const w = policy.learning.priorWeight;
  return (offer.probability * w + tally.saves) / (w + tally.attempts);
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
 */
export function weighOffers(
  policy: Policy,
  value: CustomerValue,
  reason: CancellationReason,
  observed?: ObservedSaveRates,
): WeighedOffer[] {
  const unit = minorUnitsOf(policy, value.currency);
  const contactCost = policy.contactCost * unit;
  const out: WeighedOffer[] = [];
  for (const offer of policy.tables.offersByReason[reason]) {
    if (!isEligible(offer, value)) continue;
    const probability = saveProbability(policy, reason, offer, observed);
    const cost = Math.round(
      offer.marginFactor * value.margin12m + offer.revenueFactor * value.revenue12m + offer.fixedMajor * unit,
    );
    const expectedValue = Math.round(probability * (value.remainingLifetimeValue - cost) - contactCost);
    out.push({ offer: offer.offer, probability, expectedValue, cost });
  }
  return out;
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
  reasons.push(`Remaining lifetime value is estimated at ${money(value.remainingLifetimeValue)}.`);
  if (weighed.length === 0) reasons.push('No offer is allowed for this reason and customer.');
  for (const w of weighed) {
    reasons.push(
      `Offering ${OFFER_WORDS[w.offer]}: ${percent(w.probability)} chance to keep the customer, costs ${money(w.cost)}, expected value ${money(w.expectedValue)}.`,
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

export type CancellationEvent = CancellationRequested | CustomerValue;

/**
 * Decides on a cancellation (docs/policy.md, "Deciding on a cancellation") and emits the `ChurnDecision` (keyed
 * by customerId), its contact tasks and its alerts. A `CustomerValue` event only updates
 * the joined snapshot. A cancellation already decided (same eventId) emits nothing.
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
  if (isCustomerValue(event)) return { state: rememberCustomerValue(current, event), emit: NO_EMIT };
  if (current.decided.includes(event.eventId)) return { state: current, emit: NO_EMIT };
  const policy = ctx.policy;
  const now = ctx.now;
  const known = current.value;
  if (known === null || known.signedUpAt == null) {
    throw new ChurnError(
      'CHURN_UNKNOWN_CUSTOMER',
      'cancellation for a customer whose profile has not been seen; replay it once the profile is there',
    );
  }
  const value = known;
  const weighed = value.margin12m > 0 ? weighOffers(policy, value, event.reason, ctx.observedSaveRates) : [];
  const plan = planFor(policy, value, event, now, weighed);
  const first = plan.tasks[0]!.spec;
  const respondBy = first.dueAt;
  plan.reasons.push(`Respond by ${formatTime(respondBy)} (${first.priority}).`);
  const cause = event.eventId;
  const ids = deriveIdAndEventId(cause, 'decision');
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
    offersWeighed: weighed.map((w) => ({ offer: w.offer, probability: w.probability, expectedValue: w.expectedValue })),
    reasons: plan.reasons,
    policyVersion: policy.version,
    respondBy,
    value,
    reason: event.reason,
    priority: first.priority,
  };
  const emit: Emitted[] = [{ topic: 'churn.decisions.v1', key: event.customerId, value: decision }];
  for (const t of plan.tasks) emit.push(taskRecord(cause, t.role, event.customerId, now, t.spec));
  for (const a of plan.alerts) emit.push(alertRecord(cause, a.role, event.customerId, event.customerId, now, a.spec));
  return {
    state: { value: current.value, decided: remember(current.decided, cause, policy.dedup.recentEvents) },
    emit,
  };
}
