import type { CustomerValue, InvoiceEvent, SurveyResult } from '@churn/contracts';
import {
  type CustomerValueEvent,
  type InvoiceSignalState,
  isCustomerValue,
  type JoiningProcessor,
  type Policy,
  type ProcessorResult,
  routeSurvey,
  type SurveyRoutingState,
  signalInvoice,
  tickValue,
  updateOwn,
  updateValue,
  valueOfStateDueAt,
  type WithValue,
} from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-signals';

export interface Signals {
  readonly survey: SurveyRoutingState | undefined;
  readonly invoice: InvoiceSignalState | undefined;
}

export type SignalsState = WithValue<Signals>;

/** Survey routing and invoice signals side by side, joined with the same customer value. */
export const routeSignal: JoiningProcessor<SurveyResult | InvoiceEvent, Signals> = (
  event,
  state,
  ctx,
): ProcessorResult<Signals> => {
  const current: Signals = state ?? { survey: undefined, invoice: undefined };
  if (isCustomerValue(event)) {
    const survey = routeSurvey(event as CustomerValue, current.survey, ctx);
    const invoice = signalInvoice(event as CustomerValue, current.invoice, ctx);
    return { state: { survey: survey.state, invoice: invoice.state }, emit: [...survey.emit, ...invoice.emit] };
  }
  if ('surveyId' in event) {
    const survey = routeSurvey(event, current.survey, ctx);
    return {
      state: survey.state === current.survey ? current : { ...current, survey: survey.state },
      emit: survey.emit,
    };
  }
  const invoice = signalInvoice(event, current.invoice, ctx);
  return {
    state: invoice.state === current.invoice ? current : { ...current, invoice: invoice.state },
    emit: invoice.emit,
  };
};

/**
 * Routes survey results (referral requests from promoters, recovery for valuable
 * detractors, silent customers) and signals overdue invoices (payment follow-ups and
 * payment-risk alerts). It keeps each customer's value from the same raw events, so a
 * survey or an invoice is judged on the value that includes it.
 */
export function signalsTopology(policy: Policy): Topology<SignalsState> {
  return {
    name: SERVICE,
    // 2: the service keeps the customer's value itself.
    stateVersion: 2,
    inputs: ['customer.profiles.v1', 'billing.invoices.v1', 'customer.surveys.v1'],
    outputs: ['contact-center.tasks.v1', 'churn.alerts.v1'],
    process: (record, state, now) => {
      const ctx = { now, policy };
      const valued = updateValue(record.value as CustomerValueEvent, state, routeSignal, ctx);
      if (record.topic === 'customer.profiles.v1') return valued;
      const own = updateOwn(record.value as SurveyResult | InvoiceEvent, valued.state, routeSignal, ctx);
      return { state: own.state, emit: [...valued.emit, ...own.emit] };
    },
    tick: (key, state, at) => tickValue(key, at, state, routeSignal, { now: at, policy }),
    dueAt: (_key, state) => valueOfStateDueAt(state),
  };
}
