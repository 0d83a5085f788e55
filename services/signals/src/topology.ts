import {
  type InvoiceSignalEvent,
  type InvoiceSignalState,
  type Policy,
  routeSurvey,
  type SurveyRoutingEvent,
  type SurveyRoutingState,
  signalInvoice,
} from '@churn/domain';
import type { OutputRecord, StepResult, Topology } from '@churn/runtime';

export const SERVICE = 'churn-signals';

export interface SignalsState {
  readonly survey: SurveyRoutingState | undefined;
  readonly invoice: InvoiceSignalState | undefined;
}

/**
 * Routes survey results (referral requests from promoters, recovery for valuable
 * detractors, silent customers) and signals overdue invoices (payment follow-ups and
 * payment-risk alerts), both joined with the customer's latest CustomerValue snapshot.
 */
export function signalsTopology(policy: Policy): Topology<SignalsState> {
  return {
    name: SERVICE,
    inputs: ['churn.customer-value.v1', 'customer.surveys.v1', 'billing.invoices.v1'],
    outputs: ['contact-center.tasks.v1', 'churn.alerts.v1'],
    process: (record, state, now): StepResult<SignalsState> => {
      const ctx = { now, policy };
      const current: SignalsState = state ?? { survey: undefined, invoice: undefined };
      if (record.topic === 'churn.customer-value.v1') {
        const survey = routeSurvey(record.value as SurveyRoutingEvent, current.survey, ctx);
        const invoice = signalInvoice(record.value as InvoiceSignalEvent, current.invoice, ctx);
        return {
          state: { survey: survey.state, invoice: invoice.state },
          emit: [...survey.emit, ...invoice.emit] as OutputRecord[],
        };
      }
      if (record.topic === 'customer.surveys.v1') {
        const survey = routeSurvey(record.value as SurveyRoutingEvent, current.survey, ctx);
        return {
          state: survey.state === current.survey ? current : { ...current, survey: survey.state },
          emit: survey.emit,
        };
      }
      const invoice = signalInvoice(record.value as InvoiceSignalEvent, current.invoice, ctx);
      return {
        state: invoice.state === current.invoice ? current : { ...current, invoice: invoice.state },
        emit: invoice.emit,
      };
    },
  };
}
