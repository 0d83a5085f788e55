/**
 * Fixture builders for domain tests, in the domain's words:
 * `aB2bCustomer({ revenue12m: 600_000 })`. Money given to these builders is in MAJOR units
 * (kroner), as the business rules speak; the records they build carry minor units.
 */
import type {
  CancellationRequested,
  CustomerValue,
  InvoiceEvent,
  LearningSnapshot,
  Segment,
  Tier,
  Track,
} from '@churn/contracts';
import { aCancellation, anInvoice, FIXTURE_NOW } from '@churn/contracts/testing';
import { tierOf } from '../customer-value.ts';
import { deriveId } from '../ids.ts';
import type { Policy } from '../policy.ts';
import type { ProcessorContext } from '../processor.ts';
import { defaultPolicy } from './policy.ts';

export { defaultPolicy, defaultPolicyDocument, learningPolicy, priorsOnlyPolicy } from './policy.ts';
export { FIXTURE_NOW };

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
/** Minor units per major unit of DKK, the fixtures' currency. */
export const ORE = 100;

export interface CustomerOptions {
  customerId?: string;
  /** Major units. */
  revenue12m?: number;
  /** Major units; default: the policy's gross margin rate of the revenue. */
  margin12m?: number;
  tier?: Tier;
  track?: Track;
  tenureDays?: number;
  /** Major units. */
  acquisitionCost?: number;
  /** Major units; default: 12 months of margin per year of tenure. */
  cumulativeMargin?: number;
  /** Major units; default: monthly margin x expected remaining months. */
  remainingLifetimeValue?: number;
  overdueInvoices?: number;
  lastNps?: number | null;
  unansweredSurveys?: number;
  accountManager?: string | null;
  executiveSponsor?: string | null;
  asOf?: number;
}

function aCustomer(segment: Segment, o: CustomerOptions, policy: Policy): CustomerValue {
  const revenue = Math.round((o.revenue12m ?? (segment === 'B2B' ? 150_000 : 5_000)) * ORE);
  const margin = Math.round(
    (o.margin12m ?? (o.revenue12m ?? revenue / ORE) * policy.value.defaultGrossMarginRate) * ORE,
  );
  const tenureDays = o.tenureDays ?? 1_500;
  const cumulative = Math.round(
    o.cumulativeMargin !== undefined ? o.cumulativeMargin * ORE : (margin * Math.min(tenureDays, 3650)) / 365,
  );
  const acquisitionCost = Math.round((o.acquisitionCost ?? (segment === 'B2B' ? 20_000 : 500)) * ORE);
  const asOf = o.asOf ?? FIXTURE_NOW;
  return {
    customerId: o.customerId ?? 'cust-0001',
    asOf,
    currency: 'DKK',
    revenue12m: revenue,
    margin12m: margin,
    tier: o.tier ?? tierOf(policy, segment, revenue, 'DKK'),
    track: o.track ?? 'RETAIN',
    tenureDays,
    acquisitionCost,
    cumulativeMargin: cumulative,
    paybackReached: cumulative >= acquisitionCost,
    remainingLifetimeValue:
      o.remainingLifetimeValue !== undefined
        ? Math.round(o.remainingLifetimeValue * ORE)
        : Math.round((margin / 12) * policy.tables.remainingMonths),
    overdueInvoices: o.overdueInvoices ?? 0,
    lastNps: o.lastNps ?? null,
    unansweredSurveys: o.unansweredSurveys ?? 0,
    eventId: deriveId('fixture', `${o.customerId ?? 'cust-0001'}:${asOf}`),
    causationId: null,
    segment,
    accountManager: o.accountManager === undefined ? (segment === 'B2B' ? 'am-042' : null) : o.accountManager,
    executiveSponsor: o.executiveSponsor === undefined ? (segment === 'B2B' ? 'exec-007' : null) : o.executiveSponsor,
    signedUpAt: asOf - tenureDays * DAY,
  };
}

/** A business customer's value snapshot, with an account manager and an executive sponsor unless told otherwise. */
export function aB2bCustomer(o: CustomerOptions = {}, policy: Policy = defaultPolicy): CustomerValue {
  return aCustomer('B2B', o, policy);
}

/** A consumer's value snapshot, with no named owner unless told otherwise. */
export function aB2cCustomer(o: CustomerOptions = {}, policy: Policy = defaultPolicy): CustomerValue {
  return aCustomer('B2C', o, policy);
}

/** A processor context at `now` (default: the fixtures' reference time) with the default policy. */
export function aContext(
  o: { now?: number; policy?: Policy; learned?: LearningSnapshot | null } = {},
): ProcessorContext {
  return {
    now: o.now ?? FIXTURE_NOW,
    policy: o.policy ?? defaultPolicy,
    learned: o.learned ?? null,
  };
}

/** A cancellation with a deterministic event id (so tests can compare outputs across runs). */
export function aCancellationOf(
  customer: Pick<CustomerValue, 'customerId'>,
  o: Partial<CancellationRequested> = {},
): CancellationRequested {
  const id = o.cancellationId ?? 'canc-0001';
  return aCancellation({
    eventId: deriveId('cancellation', `${customer.customerId}:${id}:${o.reason ?? 'PRICE'}`),
    customerId: customer.customerId,
    cancellationId: id,
    ...o,
  });
}

/** An invoice event in major units: `anInvoiceOf({ amount: 5_000, status: 'PAID' })`. */
export function anInvoiceOf(
  o: Partial<Omit<InvoiceEvent, 'amount' | 'costToServe'>> & { amount?: number; costToServe?: number | null } = {},
): InvoiceEvent {
  const { amount, costToServe, ...rest } = o;
  const issuedAt = rest.issuedAt ?? FIXTURE_NOW - 10 * DAY;
  const invoiceId = rest.invoiceId ?? `inv-${issuedAt}`;
  const status = rest.status ?? 'ISSUED';
  return anInvoice({
    eventId: deriveId('invoice', `${invoiceId}:${status}`),
    invoiceId,
    occurredAt: issuedAt,
    issuedAt,
    dueAt: issuedAt + 30 * DAY,
    ...rest,
    amount: Math.round((amount ?? 10_000) * ORE),
    costToServe: costToServe === undefined || costToServe === null ? null : Math.round(costToServe * ORE),
  });
}

/** A learning snapshot as of `at` (default: the fixtures' reference time's midnight), for partition 0. */
export function aLearningSnapshot(
  o: { at?: number; saves?: LearningSnapshot['saves']; exposures?: LearningSnapshot['exposures'] } = {},
): LearningSnapshot {
  const at = o.at ?? Math.floor(FIXTURE_NOW / DAY) * DAY;
  return {
    eventId: deriveId(`snapshot:${at}`, 'test'),
    occurredAt: at,
    partition: 0,
    saves: o.saves ?? [],
    exposures: o.exposures ?? [],
    arms: [],
  };
}
