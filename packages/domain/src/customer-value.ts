/**
 * Keeping customer value (docs/policy.md, "Tiers and tracks" and "Customer value"): from
 * profile, invoice and survey events, the rolling 12-month revenue and margin, tier and
 * track, tenure, payback, remaining lifetime value, overdue invoices, last NPS and
 * consecutive unanswered surveys. Emits a `CustomerValue` snapshot whenever something a reader cares about
 * changed; the snapshot is the join currency of every downstream processor.
 */
import type {
  CustomerProfile,
  CustomerValue,
  InvoiceEvent,
  Potential,
  Segment,
  SurveyResult,
  Tier,
  Track,
} from '@churn/contracts';
import { deriveId, hash53 } from './ids.ts';
import { minorUnitsOf, type Policy } from './policy.ts';
import { type Emitted, isTick, NO_EMIT, type ProcessorContext, type ProcessorResult, type Tick } from './processor.ts';
import { DAY_MS, monthIndex, startOfNextMonth } from './time.ts';

/** What the profile told us about a customer. */
export interface ProfileFacts {
  readonly segment: Segment;
  readonly signedUpAt: number;
  readonly acquisitionCost: number;
  readonly potential: Potential;
  readonly accountManager: string | null;
  readonly executiveSponsor: string | null;
  /** occurredAt of the profile event, so an older profile never overwrites a newer one. */
  readonly at: number;
}

/**
 * The state of one customer, plain JSON and compact (under 1000 bytes for a customer
 * invoiced monthly: about 870 bytes of JSON, 900 of heap; see the benchmark): invoices
 * are remembered only within the window plus a margin, as numbers, and surveys only as
 * far back as the policy's survey memory. A customer invoiced weekly needs about four
 * times the invoice memory.
 */
export interface CustomerValueState {
  readonly customerId: string;
  /** Newest event time seen; the 12-month window ends here. */
  readonly asOf: number;
  readonly currency: string | null;
  readonly profile: ProfileFacts | null;
  /**
   * Remembered invoices, as three parallel arrays so that a payment copies only the marks:
   * the hash of each invoice id; its issue month x 32 + flags (counted, overdue, paid,
   * credited, written off); and two numbers each, revenue and cost counted.
   */
  readonly invoiceIds: readonly number[];
  readonly invoiceMarks: readonly number[];
  readonly invoiceAmounts: readonly number[];
  /** Margin of every invoice counted since the customer was first seen (minor units). */
  readonly cumulativeMargin: number;
  /** Three numbers per recent survey: hash of the survey id, occurredAt, 1 when answered. */
  readonly surveys: readonly number[];
  /** occurredAt of the newest answered survey; 0 before any (the state must stay plain JSON). */
  readonly lastAnsweredAt: number;
  readonly lastNps: number | null;
  readonly lastNpsAt: number;
  /** Fingerprint of the last emitted snapshot's reader-relevant fields; 0 before the first. */
  readonly emitted: number;
}

export type CustomerValueEvent = CustomerProfile | InvoiceEvent | SurveyResult | (Tick & { customerId: string });

const F_COUNTED = 1;
const F_OVERDUE = 2;
const F_PAID = 4;
const F_CREDITED = 8;
const F_WRITTEN_OFF = 16;
/** Flags take the low 5 bits of an invoice's packed month-and-flags (a small integer, so bit operations apply). */
const F_BITS = 5;
const F_MASK = 31;
const SURVEY_STRIDE = 3;

/** The tier of a revenue (minor units) per the policy's thresholds for the segment. */
export function tierOf(policy: Policy, segment: Segment | null, revenue12m: number, currency: string): Tier {
  const thresholds = policy.tiers[segment ?? policy.tiers.segmentWhenUnknown];
  const revenueMajor = revenue12m / minorUnitsOf(policy, currency);
  if (revenueMajor >= thresholds.A) return 'A';
  if (revenueMajor >= thresholds.B) return 'B';
  if (revenueMajor >= thresholds.C) return 'C';
  return 'D';
}

export { monthIndex };

export function emptyCustomerValueState(customerId: string): CustomerValueState {
  return {
    customerId,
    asOf: 0,
    currency: null,
    profile: null,
    invoiceIds: [],
    invoiceMarks: [],
    invoiceAmounts: [],
    cumulativeMargin: 0,
    surveys: [],
    lastAnsweredAt: 0,
    lastNps: null,
    lastNpsAt: 0,
    emitted: 0,
  };
}

/** Set by applyInvoice: whether the invoice's revenue, cost or overdue state changed (module scratch, no allocation). */
let invoiceChangedWhatReadersSee = true;

/** A copy of `list` with room for `extra` more entries: pre-sized, several times faster than slice-and-push or concat. */
function copyOf(list: readonly number[], extra: number): number[] {
  const length = list.length;
  const next: number[] = new Array<number>(length + extra);
  for (let i = 0; i < length; i++) next[i] = list[i]!;
  return next;
}

function applyInvoice(state: CustomerValueState, e: InvoiceEvent, asOf: number, policy: Policy): CustomerValueState {
  const id = hash53(e.invoiceId);
  const ids = state.invoiceIds;
  const marks = state.invoiceMarks;
  const amounts = state.invoiceAmounts;
  let at = -1;
  // Newest last: a payment usually concerns one of the latest invoices, so search from the end.
  for (let i = ids.length - 1; i >= 0; i--) {
    if (ids[i] === id) {
      at = i;
      break;
    }
  }
  const month = monthIndex(e.issuedAt);
  const horizon = monthIndex(asOf) - (policy.value.windowMonths - 1) - policy.value.invoiceMemoryExtraMonths;
  // An invoice older than the memory cannot be de-duplicated any more, and lies outside the window: ignore it.
  if (at < 0 && month < horizon) return state;
  const packed = at < 0 ? month << F_BITS : marks[at]!;
  let flags = packed & F_MASK;
  const oldRevenue = at < 0 ? 0 : amounts[2 * at]!;
  const oldCost = at < 0 ? 0 : amounts[2 * at + 1]!;
  let revenue = oldRevenue;
  let cost = oldCost;
  const keepRate = 1 - policy.value.defaultGrossMarginRate;
  // Every invoice event carries the invoice amount except credit notes and write-offs, which
  // carry the amount credited or written off; each part is counted once, in any order.
  if (e.status !== 'CREDITED' && e.status !== 'WRITTEN_OFF' && (flags & F_COUNTED) === 0) {
    revenue += e.amount;
    cost += e.costToServe ?? Math.round(e.amount * keepRate);
    flags |= F_COUNTED;
  }
  switch (e.status) {
    case 'PAID':
      flags = (flags | F_PAID) & ~F_OVERDUE;
      break;
    case 'OVERDUE':
      if ((flags & (F_PAID | F_CREDITED | F_WRITTEN_OFF)) === 0) flags |= F_OVERDUE;
      break;
    case 'CREDITED':
      if ((flags & F_CREDITED) === 0) {
        revenue -= e.amount;
        cost -= e.costToServe ?? Math.round(e.amount * keepRate);
        flags = (flags | F_CREDITED) & ~F_OVERDUE;
      }
      break;
    case 'WRITTEN_OFF':
      // Bad debt: the revenue never comes, the cost to serve was spent all the same.
      if ((flags & F_WRITTEN_OFF) === 0) {
        revenue -= e.amount;
        flags = (flags | F_WRITTEN_OFF) & ~F_OVERDUE;
      }
      break;
    case 'ISSUED':
      break;
  }
  const newPacked = (packed & ~F_MASK) | flags;
  const amountsChanged = revenue !== oldRevenue || cost !== oldCost;
  if (at >= 0 && newPacked === packed && !amountsChanged) return state;
  invoiceChangedWhatReadersSee = amountsChanged || ((packed ^ newPacked) & F_OVERDUE) !== 0;
  let nextIds: number[];
  let nextMarks: number[];
  let nextAmounts: number[];
  if (at < 0) {
    const n = ids.length;
    nextIds = copyOf(ids, 1);
    nextIds[n] = id;
    nextMarks = copyOf(marks, 1);
    nextMarks[n] = newPacked;
    nextAmounts = copyOf(amounts, 2);
    nextAmounts[2 * n] = revenue;
    nextAmounts[2 * n + 1] = cost;
  } else {
    // Arrays are never mutated once in a state, so unchanged ones are shared with the previous state.
    nextIds = ids as number[];
    nextMarks = marks.slice();
    nextMarks[at] = newPacked;
    nextAmounts = amounts as number[];
    if (amountsChanged) {
      nextAmounts = amounts.slice();
      nextAmounts[2 * at] = revenue;
      nextAmounts[2 * at + 1] = cost;
    }
  }
  // Forget invoices that left the memory, unless still overdue (they still count as overdue).
  let stale = false;
  for (let i = 0; i < nextMarks.length; i++) {
    const p = nextMarks[i]!;
    if (p >> F_BITS < horizon && (p & F_OVERDUE) === 0) {
      stale = true;
      break;
    }
  }
  if (stale) {
    // Pre-sized, not pushed: pushing leaves spare capacity in every state, which costs heap per customer.
    let keep = 0;
    for (let i = 0; i < nextMarks.length; i++) {
      const p = nextMarks[i]!;
      if (p >> F_BITS >= horizon || (p & F_OVERDUE) !== 0) keep++;
    }
    const keptIds: number[] = new Array<number>(keep);
    const keptMarks: number[] = new Array<number>(keep);
    const keptAmounts: number[] = new Array<number>(2 * keep);
    let k = 0;
    for (let i = 0; i < nextMarks.length; i++) {
      const p = nextMarks[i]!;
      if (p >> F_BITS < horizon && (p & F_OVERDUE) === 0) continue;
      keptIds[k] = nextIds[i]!;
      keptMarks[k] = p;
      keptAmounts[2 * k] = nextAmounts[2 * i]!;
      keptAmounts[2 * k + 1] = nextAmounts[2 * i + 1]!;
      k++;
    }
    nextIds = keptIds;
    nextMarks = keptMarks;
    nextAmounts = keptAmounts;
  }
  return {
    customerId: state.customerId,
    asOf,
    currency: state.currency ?? e.currency,
    profile: state.profile,
    invoiceIds: nextIds,
    invoiceMarks: nextMarks,
    invoiceAmounts: nextAmounts,
    cumulativeMargin: state.cumulativeMargin + (revenue - cost) - (oldRevenue - oldCost),
    surveys: state.surveys,
    lastAnsweredAt: state.lastAnsweredAt,
    lastNps: state.lastNps,
    lastNpsAt: state.lastNpsAt,
    emitted: state.emitted,
  };
}

// States are always built field by field in one order, so that they all share one hidden class.
function withAsOf(state: CustomerValueState, asOf: number): CustomerValueState {
  return {
    customerId: state.customerId,
    asOf,
    currency: state.currency,
    profile: state.profile,
    invoiceIds: state.invoiceIds,
    invoiceMarks: state.invoiceMarks,
    invoiceAmounts: state.invoiceAmounts,
    cumulativeMargin: state.cumulativeMargin,
    surveys: state.surveys,
    lastAnsweredAt: state.lastAnsweredAt,
    lastNps: state.lastNps,
    lastNpsAt: state.lastNpsAt,
    emitted: state.emitted,
  };
}

function applySurvey(state: CustomerValueState, e: SurveyResult, asOf: number, policy: Policy): CustomerValueState {
  const id = hash53(e.surveyId);
  const list = state.surveys;
  for (let i = 0; i < list.length; i += SURVEY_STRIDE) if (list[i] === id) return withAsOf(state, asOf);
  const answered = e.status === 'ANSWERED';
  const next = list.slice();
  next.push(id, e.occurredAt, answered ? 1 : 0);
  if (next.length / SURVEY_STRIDE > policy.value.surveyMemory) {
    let oldest = 0;
    for (let i = SURVEY_STRIDE; i < next.length; i += SURVEY_STRIDE) if (next[i + 1]! < next[oldest + 1]!) oldest = i;
    next.splice(oldest, SURVEY_STRIDE);
  }
  const isNps = answered && e.kind === 'NPS' && e.score !== null;
  const newerNps = isNps && e.occurredAt >= state.lastNpsAt;
  return {
    customerId: state.customerId,
    asOf,
    currency: state.currency,
    profile: state.profile,
    invoiceIds: state.invoiceIds,
    invoiceMarks: state.invoiceMarks,
    invoiceAmounts: state.invoiceAmounts,
    cumulativeMargin: state.cumulativeMargin,
    surveys: next,
    lastAnsweredAt: answered ? Math.max(state.lastAnsweredAt, e.occurredAt) : state.lastAnsweredAt,
    lastNps: newerNps ? e.score : state.lastNps,
    lastNpsAt: newerNps ? e.occurredAt : state.lastNpsAt,
    emitted: state.emitted,
  };
}

function applyProfile(state: CustomerValueState, e: CustomerProfile, asOf: number): CustomerValueState {
  if (state.profile !== null && state.profile.at > e.occurredAt) return withAsOf(state, asOf);
  const profile: ProfileFacts = {
    segment: e.segment,
    signedUpAt: e.signedUpAt,
    acquisitionCost: e.acquisitionCost,
    potential: e.potential,
    accountManager: e.accountManager,
    executiveSponsor: e.executiveSponsor,
    at: e.occurredAt,
  };
  return {
    customerId: state.customerId,
    asOf,
    currency: e.currency,
    profile,
    invoiceIds: state.invoiceIds,
    invoiceMarks: state.invoiceMarks,
    invoiceAmounts: state.invoiceAmounts,
    cumulativeMargin: state.cumulativeMargin,
    surveys: state.surveys,
    lastAnsweredAt: state.lastAnsweredAt,
    lastNps: state.lastNps,
    lastNpsAt: state.lastNpsAt,
    emitted: state.emitted,
  };
}

/** Consecutive unanswered surveys: unanswered ones newer than the newest answer, as far as the memory reaches. */
function unansweredOf(state: CustomerValueState): number {
  let n = 0;
  const list = state.surveys;
  for (let i = 0; i < list.length; i += SURVEY_STRIDE) {
    if (list[i + 2] === 0 && list[i + 1]! > state.lastAnsweredAt) n++;
  }
  return n;
}

/**
 * The snapshot a state stands for. `eventId` and `causationId` are left null; the
 * processor sets them when it emits.
 */
export function snapshotOf(state: CustomerValueState, policy: Policy): CustomerValue {
  const currency = state.currency ?? policy.money.currencyWhenUnknown;
  const current = monthIndex(state.asOf);
  const windowStart = current - policy.value.windowMonths + 1;
  let revenue12m = 0;
  let cost12m = 0;
  let overdue = 0;
  const marks = state.invoiceMarks;
  const amounts = state.invoiceAmounts;
  for (let i = 0; i < marks.length; i++) {
    const p = marks[i]!;
    if (p >> F_BITS >= windowStart) {
      revenue12m += amounts[2 * i]!;
      cost12m += amounts[2 * i + 1]!;
    }
    if ((p & F_OVERDUE) !== 0) overdue++;
  }
  const margin12m = revenue12m - cost12m;
  const profile = state.profile;
  const segment = profile?.segment ?? null;
  const track: Track = profile?.potential === 'GROW' ? 'GROW' : 'RETAIN';
  const unanswered = unansweredOf(state);
  // A customer younger than the window has earned its margin in fewer months.
  const monthsObserved =
    profile === null
      ? policy.value.windowMonths
      : Math.min(policy.value.windowMonths, Math.max(1, current - monthIndex(profile.signedUpAt) + 1));
  const remainingMonths =
    unanswered >= policy.value.silence.repeatedAfter
      ? policy.tables.remainingMonthsWhenSilent
      : policy.tables.remainingMonths;
  const acquisitionCost = profile?.acquisitionCost ?? 0;
  return {
    customerId: state.customerId,
    asOf: state.asOf,
    currency,
    revenue12m,
    margin12m,
    tier: tierOf(policy, segment, revenue12m, currency),
    track,
    tenureDays: profile === null ? 0 : Math.max(0, Math.floor((state.asOf - profile.signedUpAt) / DAY_MS)),
    acquisitionCost,
    cumulativeMargin: state.cumulativeMargin,
    paybackReached: state.cumulativeMargin >= acquisitionCost,
    remainingLifetimeValue: Math.round((margin12m / monthsObserved) * remainingMonths),
    overdueInvoices: overdue,
    lastNps: state.lastNps,
    unansweredSurveys: unanswered,
    eventId: null,
    causationId: null,
    segment,
    accountManager: profile?.accountManager ?? null,
    executiveSponsor: profile?.executiveSponsor ?? null,
    signedUpAt: profile?.signedUpAt ?? null,
  };
}

function mix(h: number, x: number): number {
  const lo = x | 0;
  const hi = Math.floor(x / 4_294_967_296) | 0;
  h = Math.imul(h ^ lo, 0x01000193);
  h = Math.imul(h ^ hi, 0x5bd1e995);
  return h ^ (h >>> 15);
}

/** A fingerprint of what readers act on; tenure and asOf move every day and are left out. */
function fingerprint(v: CustomerValue, profileAt: number): number {
  let a = 0x811c9dc5;
  let b = 0x12345679;
  a = mix(a, v.revenue12m);
  b = mix(b, v.margin12m);
  a = mix(a, v.margin12m);
  b = mix(b, v.revenue12m);
  a = mix(a, v.tier.charCodeAt(0) * 256 + v.track.charCodeAt(0));
  b = mix(b, v.acquisitionCost);
  a = mix(a, v.cumulativeMargin);
  b = mix(b, v.remainingLifetimeValue);
  a = mix(a, v.overdueInvoices * 1024 + (v.lastNps ?? 15) * 32 + Math.min(v.unansweredSurveys, 31));
  b = mix(b, profileAt);
  a = mix(a, b);
  b = mix(b, a);
  // Never 0, which means "nothing emitted yet".
  return (a >>> 0) * 2_097_152 + ((b >>> 11) & 0x1fffff) || 1;
}

/**
 * Keeps one customer's value from its profile, invoice and survey events (and Ticks, which
 * roll the 12-month window forward when no facts arrive). O(invoices remembered) per event,
 * bounded memory, idempotent: an invoice counts once whatever the order and number of its
 * events; PAID after ISSUED does not double revenue; CREDITED and WRITTEN_OFF reduce it.
 *
 * Emits a `churn.customer-value.v1` snapshot, keyed by customerId, when a reader-relevant
 * field changed. The snapshot's eventId is derived from the causing event's id.
 */
export function keepCustomerValue(
  event: CustomerValueEvent,
  state: CustomerValueState | undefined,
  ctx: ProcessorContext,
): ProcessorResult<CustomerValueState> {
  const policy = ctx.policy;
  const before = state ?? emptyCustomerValueState(event.customerId);
  const asOf = Math.max(before.asOf, ctx.now);
  let after: CustomerValueState;
  let cause: string;
  if (isTick(event)) {
    // Only a new month moves the 12-month window (and with it what readers see): within
    // the month a tick changes nothing, so a runner's daily clock step over every key
    // neither rebuilds snapshots nor rewrites every key's state.
    if (monthIndex(asOf) === monthIndex(before.asOf)) return { state: before, emit: NO_EMIT };
    after = withAsOf(before, asOf);
    cause = `tick:${event.customerId}:${event.at}`;
  } else if ('invoiceId' in event) {
    invoiceChangedWhatReadersSee = true;
    after = applyInvoice(before, event, asOf, policy);
    cause = event.eventId;
    // A payment (say) that leaves revenue, cost, overdue count and window month as they were changes no snapshot field.
    if (!invoiceChangedWhatReadersSee && monthIndex(asOf) === monthIndex(before.asOf)) {
      return { state: after, emit: NO_EMIT };
    }
  } else if ('surveyId' in event) {
    after = applySurvey(before, event, asOf, policy);
    cause = event.eventId;
  } else {
    after = applyProfile(before, event, asOf);
    cause = event.eventId;
  }
  if (after === before) return { state: before, emit: NO_EMIT };
  const snapshot = snapshotOf(after, policy);
  const print = fingerprint(snapshot, after.profile?.at ?? 0);
  if (print === before.emitted) return { state: after, emit: NO_EMIT };
  snapshot.eventId = deriveId(cause, 'customer-value');
  snapshot.causationId = isTick(event) ? null : cause;
  const emitted: Emitted = { topic: 'churn.customer-value.v1', key: after.customerId, value: snapshot };
  // `after` is a fresh object of this call (never the caller's state), so completing it in place keeps the processor pure.
  (after as { emitted: number }).emitted = print;
  return { state: after, emit: [emitted] };
}

/**
 * The earliest clock time at which a Tick can change this state or emit: the first
 * instant of the month after `asOf` (a tick within the month is a no-op). A runner need
 * not tick the customer before then; events that change the state move it.
 */
export function valueDueAt(state: CustomerValueState | undefined): number {
  return state === undefined ? Number.POSITIVE_INFINITY : startOfNextMonth(state.asOf);
}
