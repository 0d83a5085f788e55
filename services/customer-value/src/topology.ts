import {
  type CustomerValueEvent,
  type CustomerValueState,
  keepCustomerValue,
  type Policy,
  valueDueAt,
} from '@churn/domain';
import type { Topology } from '@churn/runtime';

export const SERVICE = 'churn-customer-value';

/**
 * Keeps what each customer is worth from profile, invoice and survey events and
 * publishes a CustomerValue snapshot whenever something a reader cares about changes.
 * Its clock moves the 12-month window and tenure on when no event arrives.
 */
export function customerValueTopology(policy: Policy): Topology<CustomerValueState> {
  return {
    name: SERVICE,
    inputs: ['customer.profiles.v1', 'billing.invoices.v1', 'customer.surveys.v1'],
    outputs: ['churn.customer-value.v1'],
    process: (record, state, now) => keepCustomerValue(record.value as CustomerValueEvent, state, { now, policy }),
    tick: (key, state, at) => keepCustomerValue({ type: 'Tick', at, customerId: key }, state, { now: at, policy }),
    dueAt: (_key, state) => valueDueAt(state),
  };
}
