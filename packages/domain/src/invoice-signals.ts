/**
 * Signalling invoices (docs/policy.md, "Invoice signals"): involuntary churn is churn too.
 * An overdue invoice of a tier A-C customer becomes a payment follow-up task, and for
 * tier A/B a payment-risk alert to the owner.
 */
import type { CustomerValue, InvoiceEvent } from '@churn/contracts';
import { rememberCustomerValue, unknownCustomerValue } from './decision.ts';
import { hash53 } from './ids.ts';
import { alertRecord, taskRecord } from './outputs.ts';
import { minorUnitsOf } from './policy.ts';
import {
  type Emitted,
  isCustomerValue,
  NO_EMIT,
  type ProcessorContext,
  type ProcessorResult,
  remember,
} from './processor.ts';
import { alertOwnerFor, dueBy, formatMoney, formatTime, queueFor } from './routing.ts';

/** The invoice signaller's state for one customer: the latest value snapshot and the invoices already signalled. */
export interface InvoiceSignalState {
  readonly value: CustomerValue | null;
  /** Hashes of the invoice ids already signalled as overdue, newest last. */
  readonly signalled: readonly number[];
}

export type InvoiceSignalEvent = InvoiceEvent | CustomerValue;

/**
 * Signals an OVERDUE invoice once per invoice (a reminder run that repeats the OVERDUE
 * event emits nothing new). Other statuses only feed customer value and emit nothing here.
 */
export function signalInvoice(
  event: InvoiceSignalEvent,
  state: InvoiceSignalState | undefined,
  ctx: ProcessorContext,
): ProcessorResult<InvoiceSignalState> {
  const current: InvoiceSignalState = state ?? { value: null, signalled: [] };
  if (isCustomerValue(event)) return { state: rememberCustomerValue(current, event), emit: NO_EMIT };
  if (event.status !== 'OVERDUE') return { state: current, emit: NO_EMIT };
  const id = hash53(event.invoiceId);
  if (current.signalled.includes(id)) return { state: current, emit: NO_EMIT };
  const policy = ctx.policy;
  const now = ctx.now;
  const value = current.value ?? unknownCustomerValue(event.customerId, now, policy);
  const next: InvoiceSignalState = {
    value: current.value,
    signalled: remember(current.signalled, id, policy.dedup.recentEvents),
  };
  const rules = policy.invoices;
  if (!rules.followUpTiers.includes(value.tier)) return { state: next, emit: NO_EMIT };
  const customerId = event.customerId;
  // Ids from the invoice, not the event: two OVERDUE events of one invoice are one signal.
  const cause = `overdue:${customerId}:${event.invoiceId}`;
  const amount = formatMoney(event.amount, event.currency, minorUnitsOf(policy, event.currency));
  const priority = rules.followUpPriority[value.tier];
  const emit: Emitted[] = [
    taskRecord(
      cause,
      'PAYMENT_FOLLOW_UP',
      customerId,
      now,
      {
        kind: 'PAYMENT_FOLLOW_UP',
        queue: queueFor(policy, value, 'PAYMENT_FOLLOW_UP'),
        priority,
        dueAt: dueBy(policy, now, priority, null),
        offer: 'NONE',
        instructions: `Invoice ${event.invoiceId} of ${amount}, due ${formatTime(event.dueAt)}, is overdue. Call the customer, find out why, and offer help (a payment plan if needed) before it becomes churn.`,
      },
      event.eventId,
    ),
  ];
  if (rules.riskAlertTiers.includes(value.tier)) {
    emit.push(
      alertRecord(
        cause,
        'PAYMENT_RISK',
        customerId,
        customerId,
        now,
        {
          kind: 'PAYMENT_RISK',
          severity: 'WARNING',
          owner: alertOwnerFor(policy, value),
          message: `Tier ${value.tier} customer ${customerId} has an overdue invoice (${event.invoiceId}, ${amount}). Involuntary churn is churn too.`,
        },
        event.eventId,
      ),
    );
  }
  return { state: next, emit };
}
