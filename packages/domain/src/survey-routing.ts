/**
 * Routing surveys (docs/policy.md, "Surveys"): follow up promoters while the momentum is
 * there, involve everyone at once for a valuable detractor, answer a low-value detractor
 * professionally, and treat silence as the signal it is.
 */
import type { CustomerValue, SurveyResult } from '@churn/contracts';
import { rememberCustomerValue, unknownCustomerValue } from './decision.ts';
import { hash53 } from './ids.ts';
import { alertRecord, taskRecord } from './outputs.ts';
import {
  type Emitted,
  isCustomerValue,
  NO_EMIT,
  type ProcessorContext,
  type ProcessorResult,
  remember,
} from './processor.ts';
import { alertOwnerFor, dueBy, queueFor } from './routing.ts';

/** The survey router's state for one customer: the latest value snapshot and the surveys already routed. */
export interface SurveyRoutingState {
  readonly value: CustomerValue | null;
  /** Hashes of the survey ids already routed, newest last. */
  readonly routed: readonly number[];
}

export type SurveyRoutingEvent = SurveyResult | CustomerValue;

/** How an NPS score reads: 0-6 detractor, 7-8 passive, 9-10 promoter (policy `surveys.nps`). */
export type NpsCategory = 'DETRACTOR' | 'PASSIVE' | 'PROMOTER';

export function npsCategoryOf(score: number, nps: { detractorMax: number; passiveMax: number }): NpsCategory {
  if (score <= nps.detractorMax) return 'DETRACTOR';
  if (score <= nps.passiveMax) return 'PASSIVE';
  return 'PROMOTER';
}

/**
 * Routes one survey result. Needs the customer's value to know tier and track; before a
 * value is known, a survey is routed as for a tier D RETAIN customer (the cautious default).
 * Each survey is routed once: a survey id seen again emits nothing.
 */
export function routeSurvey(
  event: SurveyRoutingEvent,
  state: SurveyRoutingState | undefined,
  ctx: ProcessorContext,
): ProcessorResult<SurveyRoutingState> {
  const current: SurveyRoutingState = state ?? { value: null, routed: [] };
  if (isCustomerValue(event)) return { state: rememberCustomerValue(current, event), emit: NO_EMIT };
  const id = hash53(event.surveyId);
  if (current.routed.includes(id)) return { state: current, emit: NO_EMIT };
  const policy = ctx.policy;
  const rules = policy.surveys;
  const now = ctx.now;
  const value: CustomerValue = current.value ?? unknownCustomerValue(event.customerId, now, policy);
  const cause = event.eventId;
  const customerId = event.customerId;
  const emit: Emitted[] = [];
  const valuable = rules.highValueTiers.includes(value.tier) || value.track === 'GROW';
  if (event.status === 'UNANSWERED') {
    if (rules.silentAlertTiers.includes(value.tier)) {
      emit.push(
        alertRecord(cause, 'SILENT_CUSTOMER', customerId, customerId, now, {
          kind: 'SILENT_CUSTOMER',
          severity: 'WARNING',
          owner: alertOwnerFor(policy, value),
          message: `Tier ${value.tier} customer ${customerId} left a ${event.kind} survey unanswered. About 9 in 10 dissatisfied customers never complain, and silent customers are the most likely to switch: get in touch.`,
        }),
      );
    }
  } else if (event.kind === 'NPS' && event.score !== null) {
    const category = npsCategoryOf(event.score, rules.nps);
    if (category === 'PROMOTER' && (value.track === 'GROW' || rules.referralTiers.includes(value.tier))) {
      const priority = rules.referralPriority;
      emit.push(
        taskRecord(cause, 'REFERRAL_REQUEST', customerId, now, {
          kind: 'REFERRAL_REQUEST',
          queue: queueFor(policy, value, 'REFERRAL_REQUEST'),
          priority,
          dueAt: dueBy(policy, now, priority, null),
          offer: 'NONE',
          instructions: `The customer gave an NPS of ${event.score}: thank them, ask for a referral while the momentum is there, and learn what works for them.`,
        }),
      );
    }
    if (category === 'DETRACTOR') {
      const priority = valuable
        ? rules.highValueDetractorPriority
        : value.tier === 'D' && value.track === 'RETAIN'
          ? rules.lowValueDetractorPriority
          : rules.otherDetractorPriority;
      emit.push(
        taskRecord(cause, 'SERVICE_RECOVERY', customerId, now, {
          kind: 'SERVICE_RECOVERY',
          queue: queueFor(policy, value, 'SERVICE_RECOVERY'),
          priority,
          dueAt: dueBy(policy, now, priority, null),
          offer: 'SERVICE_RECOVERY',
          instructions: valuable
            ? `A valuable customer gave an NPS of ${event.score}: call them now, listen, and agree a recovery plan with everyone relevant.`
            : `The customer gave an NPS of ${event.score}: answer professionally, thank them for the feedback and record it for learning.`,
        }),
      );
      if (valuable) {
        emit.push(
          alertRecord(cause, 'HIGH_VALUE_DETRACTOR', customerId, customerId, now, {
            kind: 'HIGH_VALUE_DETRACTOR',
            severity: 'CRITICAL',
            owner: alertOwnerFor(policy, value),
            message: `Tier ${value.tier} ${value.track} customer ${customerId} gave an NPS of ${event.score}. Involve everyone relevant at once.`,
          }),
        );
      }
    }
  }
  return { state: { value: current.value, routed: remember(current.routed, id, policy.dedup.recentEvents) }, emit };
}
