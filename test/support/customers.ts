/** Builders of customer histories as input events, for end-to-end tests. */
import type { CancellationRequested, CustomerProfile, InvoiceEvent } from '@churn/contracts';
import { aCancellation, aCustomerProfile, anInvoice } from '@churn/contracts/testing';

const DAY = 86_400_000;
export const E2E_NOW = Date.UTC(2026, 5, 1, 9, 0, 0);

export interface History {
  customerId: string;
  profile: CustomerProfile;
  invoices: InvoiceEvent[];
  /** The history ends just before this time. */
  now: number;
}

/** A customer with 12 paid monthly invoices ending just before E2E_NOW. */
export function aCustomerHistory(options: {
  segment?: 'B2B' | 'B2C';
  monthlyRevenue: number;
  monthlyCost: number;
  signedUpDaysAgo?: number;
  acquisitionCost?: number;
  accountManager?: string | null;
  potential?: 'GROW' | 'RETAIN';
  /** The history ends just before this time. @default E2E_NOW */
  now?: number;
}): History {
  const now = options.now ?? E2E_NOW;
  const customerId = `e2e-${crypto.randomUUID().slice(0, 8)}`;
  const signedUpAt = now - (options.signedUpDaysAgo ?? 900) * DAY;
  const profile = aCustomerProfile({
    customerId,
    segment: options.segment ?? 'B2B',
    signedUpAt,
    occurredAt: now - 400 * DAY,
    acquisitionCost: options.acquisitionCost ?? 100_000,
    accountManager: options.accountManager === undefined ? 'am-042' : options.accountManager,
    potential: options.potential ?? 'RETAIN',
  });
  const invoices: InvoiceEvent[] = [];
  for (let m = 12; m >= 1; m--) {
    const issuedAt = now - m * 30 * DAY;
    const invoiceId = `inv-${customerId}-${m}`;
    const base = anInvoice({
      customerId,
      invoiceId,
      issuedAt,
      occurredAt: issuedAt,
      dueAt: issuedAt + 30 * DAY,
      amount: options.monthlyRevenue * 100,
      costToServe: options.monthlyCost * 100,
      currency: 'DKK',
    });
    invoices.push(base, {
      ...base,
      eventId: crypto.randomUUID(),
      status: 'PAID',
      occurredAt: issuedAt + 10 * DAY,
      paidAt: issuedAt + 10 * DAY,
    });
  }
  return { customerId, profile, invoices, now };
}

export function aCancellationOf(
  history: History,
  overrides: Partial<CancellationRequested> = {},
): CancellationRequested {
  return aCancellation({
    customerId: history.customerId,
    cancellationId: `canc-${history.customerId}`,
    occurredAt: history.now,
    effectiveAt: history.now + 30 * DAY,
    ...overrides,
  });
}
