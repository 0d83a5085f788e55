/**
 * A synthetic customer population in the offline form of the contracts: profiles,
 * monthly invoices (paid, late, written off, credited), NPS/CSAT/onboarding surveys,
 * cancellations with a plausible reason mix, and contact-center outcomes. The same
 * options always give the same file.
 */
import type {
  CancellationReason,
  CancellationRequested,
  CustomerProfile,
  InvoiceEvent,
  Segment,
  SurveyResult,
  TaskOutcome,
  TaskOutcomeKind,
} from '@churn/contracts';
import { topicCatalogue } from '@churn/contracts';
import { retentionTaskIdsOf } from '@churn/domain';
import type { OfflineEvent } from './offline.ts';

/** How cancellations arrive, by channel (weights). */
export const CHANNEL_WEIGHTS = [
  ['PHONE', 30],
  ['WEB', 40],
  ['EMAIL', 15],
  ['CHAT', 10],
  ['OTHER', 5],
] as const;

const DAY = 86_400_000;
const MONTH = 30 * DAY;

export interface GenerateOptions {
  customers: number;
  months: number;
  seed: number;
  /** Prefix of customer ids. @default 'cust-' */
  idPrefix?: string;
  /**
   * Start of the window in which customers cancel and answer surveys, epoch ms.
   * Customers who joined before it (up to three years) are invoiced from their sign-up.
   * @default 2025-01-01T00:00:00Z
   */
  start?: number;
}

/** A small, fast, seedable generator (sfc32), seeded through splitmix32. */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t / 4294967296;
  }

  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, max: number): number {
    return Math.floor(this.between(min, max + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(weighted: ReadonlyArray<readonly [T, number]>): T {
    const total = weighted.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [value, weight] of weighted) {
      r -= weight;
      if (r < 0) return value;
    }
    return (weighted[weighted.length - 1] as readonly [T, number])[0];
  }

  uuid(): string {
    const hex = (n: number) => Math.floor(n).toString(16).padStart(8, '0');
    const a = hex(this.next() * 4294967296);
    const b = hex(this.next() * 4294967296);
    const c = hex(this.next() * 4294967296);
    const d = hex(this.next() * 4294967296);
    const variant = ((Number.parseInt(c.slice(0, 1), 16) & 0x3) | 0x8).toString(16);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
  }
}

type Tier = 'A' | 'B' | 'C' | 'D';

/** Yearly revenue ranges per segment and tier, major units (see the tier thresholds of the policy). */
const YEARLY: Record<Segment, Record<Tier, readonly [number, number]>> = {
  B2B: { A: [520_000, 1_800_000], B: [110_000, 480_000], C: [22_000, 95_000], D: [3_000, 19_000] },
  B2C: { A: [10_500, 24_000], B: [3_200, 9_500], C: [1_050, 2_900], D: [150, 950] },
};

const CURRENCIES = [
  ['DKK', 50],
  ['SEK', 25],
  ['NOK', 15],
  ['EUR', 10],
] as const;

const REASON_TEXT: Record<CancellationReason, readonly string[]> = {
  LIFE_CHANGE: [
    'We are moving abroad next month',
    'I lost my job and need to cut costs',
    'New family situation, no time',
  ],
  PRICE: ['Too expensive since the last price change', 'We found the same for less', 'Budget cuts this year'],
  SERVICE_ISSUE: ['Support never answered my ticket', 'Three outages this quarter', 'Invoices were wrong twice'],
  PRODUCT_GAP: ['Missing the integration we need', 'The reporting is not good enough', 'No mobile app'],
  COMPETITOR: ['Switching to a competitor with a better offer', 'Our group standardised on another vendor'],
  PAYMENT_PROBLEM: ['Cannot pay right now', 'Cash flow problems this quarter'],
  NO_LONGER_NEEDED: ['We closed that department', 'Project ended'],
  UNKNOWN: ['No reason given', 'Just cancel please'],
};

const COMMENTS = [
  'Great service, thank you',
  'Slow support lately',
  'Price is too high for what we get',
  'Works well for us',
  'The new version is confusing',
];

interface Customer {
  id: string;
  segment: Segment;
  tier: Tier;
  currency: string;
  monthlyMinor: number;
  costRatio: number;
  costKnown: boolean;
  signedUpAt: number;
  satisfaction: number;
  payer: 'prompt' | 'late' | 'bad';
}

function customerOf(rng: Random, index: number, start: number, months: number, prefix: string): Customer {
  const segment: Segment = rng.chance(0.3) ? 'B2B' : 'B2C';
  const tier = rng.pick<Tier>([
    ['A', 5],
    ['B', 15],
    ['C', 30],
    ['D', 50],
  ]);
  const [lo, hi] = YEARLY[segment][tier];
  const yearly = Math.exp(rng.between(Math.log(lo), Math.log(hi)));
  const joinedBefore = rng.chance(0.7);
  return {
    id: `${prefix}${String(index + 1).padStart(6, '0')}`,
    segment,
    tier,
    currency: rng.pick(CURRENCIES),
    monthlyMinor: Math.round((yearly / 12) * 100),
    costRatio: rng.chance(0.12) ? rng.between(1.05, 1.4) : rng.between(0.5, 0.8),
    costKnown: rng.chance(0.7),
    signedUpAt: joinedBefore
      ? start - Math.floor(rng.between(30, 3 * 365)) * DAY
      : start + Math.floor(rng.between(0, Math.max(1, months - 1) * 30)) * DAY,
    satisfaction: rng.next(),
    payer: rng.pick([
      ['prompt', 85],
      ['late', 12],
      ['bad', 3],
    ] as const),
  };
}

function reasonFor(rng: Random, c: Customer): CancellationReason {
  const unhappy = c.satisfaction < 0.35;
  return rng.pick<CancellationReason>([
    ['LIFE_CHANGE', unhappy ? 8 : 22],
    ['PRICE', 24],
    ['SERVICE_ISSUE', unhappy ? 22 : 7],
    ['PRODUCT_GAP', unhappy ? 16 : 7],
    ['COMPETITOR', unhappy ? 14 : 9],
    ['PAYMENT_PROBLEM', c.payer === 'prompt' ? 4 : 20],
    ['NO_LONGER_NEEDED', 10],
    ['UNKNOWN', 5],
  ]);
}

interface Timed {
  at: number;
  order: number;
  event: OfflineEvent;
}

/** Generates the population, sorted by event time. Calls `progress` every 1 000 customers. */
export function generatePopulation(options: GenerateOptions, progress?: (done: number) => void): OfflineEvent[] {
  const start = options.start ?? Date.UTC(2025, 0, 1);
  const end = start + options.months * MONTH;
  const rng = new Random(options.seed);
  const events: Timed[] = [];
  let order = 0;
  const add = (topic: OfflineEvent['topic'], key: string, at: number, value: unknown) => {
    if (at < end) events.push({ at, order: order++, event: { topic, key, value } });
  };

  for (let i = 0; i < options.customers; i++) {
    const c = customerOf(rng, i, start, options.months, options.idPrefix ?? 'cust-');
    const short = c.id.slice(c.id.length - 6);
    // Customers who joined before the window are invoiced from their sign-up, so that
    // cumulative margin and payback are true to their whole tenure.
    const firstSeen = c.signedUpAt;
    const owner =
      c.tier === 'A' || c.tier === 'B'
        ? `am-${String(rng.int(1, 12)).padStart(2, '0')}`
        : rng.chance(0.3)
          ? `is-${String(rng.int(1, 8)).padStart(2, '0')}`
          : null;
    const grow = rng.chance(c.segment === 'B2B' && (c.tier === 'A' || c.tier === 'B') ? 0.45 : 0.2);
    const profile: CustomerProfile = {
      eventId: rng.uuid(),
      occurredAt: firstSeen,
      customerId: c.id,
      segment: c.segment,
      signedUpAt: c.signedUpAt,
      acquisitionCost: Math.round(c.monthlyMinor * rng.between(2, 14)),
      currency: c.currency,
      potential: grow ? 'GROW' : 'RETAIN',
      accountManager: grow && owner === null ? `is-${String(rng.int(1, 8)).padStart(2, '0')}` : owner,
      executiveSponsor: c.tier === 'A' || (c.segment === 'B2B' && c.tier === 'B') ? `exec-${rng.int(1, 4)}` : null,
      plan:
        c.segment === 'B2B'
          ? rng.pick([
              ['business', 3],
              ['business-pro', 2],
              ['enterprise', c.tier === 'A' ? 4 : 1],
            ] as const)
          : rng.pick([
              ['basic', 3],
              ['plus', 2],
              ['family', 1],
            ] as const),
    };
    add('customer.profiles.v1', c.id, profile.occurredAt, profile);

    // Cancellation: a monthly hazard, higher for unhappy and small customers.
    const hazard = 0.018 * (c.satisfaction < 0.3 ? 2.5 : 1) * (c.tier === 'D' ? 1.3 : 1);
    let endsAt = Number.POSITIVE_INFINITY;
    for (let m = 2; m < options.months; m++) {
      const monthStart = start + m * MONTH;
      if (monthStart < c.signedUpAt + 2 * MONTH || !rng.chance(hazard)) continue;
      const at = monthStart + Math.floor(rng.between(0, 29 * DAY));
      const reason = reasonFor(rng, c);
      const cancellation: CancellationRequested = {
        eventId: rng.uuid(),
        occurredAt: at,
        cancellationId: `canc-${short}-${m}`,
        customerId: c.id,
        subscriptionId: `sub-${short}`,
        effectiveAt: rng.chance(0.8) ? at + rng.int(14, 60) * DAY : null,
        channel: rng.pick(CHANNEL_WEIGHTS),
        reason,
        reasonText: rng.chance(0.6)
          ? rng.pick((REASON_TEXT[reason] as readonly string[]).map((t) => [t, 1] as const))
          : null,
      };
      add('customer.cancellations.v1', c.id, at, cancellation);
      const outcome = rng.pick<TaskOutcomeKind>([
        ['RETAINED', 30],
        ['PAUSED', reason === 'LIFE_CHANGE' ? 25 : 5],
        ['DOWNGRADED', reason === 'PRICE' ? 25 : 5],
        ['LOST', 40],
        ['NO_CONTACT', 8],
      ]);
      const result: TaskOutcome = {
        eventId: rng.uuid(),
        occurredAt: at + rng.int(1, 5) * DAY,
        taskId: retentionTaskIdsOf({ causationId: cancellation.eventId })[0] as string,
        customerId: c.id,
        outcome,
        note: rng.chance(0.4) ? 'Spoke with the customer about their options' : null,
      };
      add('contact-center.task-outcomes.v1', c.id, result.occurredAt, result);
      if (outcome === 'LOST' || outcome === 'NO_CONTACT') {
        endsAt = cancellation.effectiveAt ?? at + 30 * DAY;
        break;
      }
    }

    // Monthly invoices while the customer is with us.
    const invoiceDay = rng.int(0, 27) * DAY;
    const firstMonth = Math.floor((c.signedUpAt - start) / MONTH);
    for (let m = firstMonth; m < options.months; m++) {
      const issuedAt = start + m * MONTH + invoiceDay;
      if (issuedAt < c.signedUpAt || issuedAt >= endsAt) continue;
      const amount = Math.round(c.monthlyMinor * rng.between(0.9, 1.1));
      const base: InvoiceEvent = {
        eventId: rng.uuid(),
        occurredAt: issuedAt,
        invoiceId: `inv-${short}-${m - firstMonth}`,
        customerId: c.id,
        status: 'ISSUED',
        amount,
        currency: c.currency,
        costToServe: c.costKnown ? Math.round(amount * c.costRatio * rng.between(0.95, 1.05)) : null,
        issuedAt,
        dueAt: issuedAt + 30 * DAY,
        paidAt: null,
      };
      add('billing.invoices.v1', c.id, issuedAt, base);
      const fate =
        c.payer === 'prompt'
          ? rng.pick([
              ['paid', 96],
              ['late', 2],
              ['credited', 2],
            ] as const)
          : c.payer === 'late'
            ? rng.pick([
                ['paid', 45],
                ['late', 50],
                ['credited', 5],
              ] as const)
            : rng.pick([
                ['late', 50],
                ['written_off', 50],
              ] as const);
      const follow = (at: number, status: InvoiceEvent['status'], extra: Partial<InvoiceEvent> = {}) =>
        add('billing.invoices.v1', c.id, at, { ...base, eventId: rng.uuid(), occurredAt: at, status, ...extra });
      if (fate === 'paid') {
        const paidAt = issuedAt + rng.int(3, 29) * DAY;
        follow(paidAt, 'PAID', { paidAt });
      } else if (fate === 'credited') {
        follow(issuedAt + rng.int(5, 20) * DAY, 'CREDITED', { costToServe: null });
      } else {
        const overdueAt = base.dueAt + DAY;
        follow(overdueAt, 'OVERDUE');
        if (fate === 'late') {
          const paidAt = overdueAt + rng.int(5, 40) * DAY;
          follow(paidAt, 'PAID', { paidAt });
        } else {
          follow(overdueAt + 90 * DAY, 'WRITTEN_OFF');
        }
      }
    }

    // Surveys: onboarding after a month, NPS every quarter, now and then a CSAT.
    const survey = (at: number, kind: SurveyResult['kind'], n: number) => {
      if (at < start || at >= endsAt) return;
      const answers = rng.chance(0.3 + 0.5 * c.satisfaction);
      const s = Math.min(0.999, Math.max(0, c.satisfaction + rng.between(-0.15, 0.15)));
      const score = !answers
        ? null
        : kind === 'CSAT'
          ? 1 + Math.floor(s * 5)
          : kind === 'NPS'
            ? Math.floor(s * 11)
            : null;
      const result: SurveyResult = {
        eventId: rng.uuid(),
        occurredAt: at,
        surveyId: `srv-${short}-${kind.toLowerCase()}-${n}`,
        customerId: c.id,
        kind,
        status: answers ? 'ANSWERED' : 'UNANSWERED',
        score,
        comment: answers && rng.chance(0.3) ? rng.pick(COMMENTS.map((t) => [t, 1] as const)) : null,
      };
      add('customer.surveys.v1', c.id, at, result);
    };
    survey(c.signedUpAt + 30 * DAY, 'ONBOARDING', 0);
    const offset = rng.int(0, 89) * DAY;
    for (let q = 0; q * 3 < options.months; q++) survey(start + q * 3 * MONTH + offset, 'NPS', q);
    for (let m = 0; m < options.months; m++)
      if (rng.chance(0.08)) survey(start + m * MONTH + rng.int(0, 28) * DAY, 'CSAT', m);
    if (progress && (i + 1) % 1000 === 0) progress(i + 1);
  }
  // Events at the same millisecond go in the order of the topic catalogue, which is the
  // order in which a service merges its input topics: the file then reads the same in
  // the replay and on Kafka.
  const rank = new Map<string, number>(topicCatalogue.map((t, i) => [t.topic, i]));
  events.sort(
    (a, b) => a.at - b.at || (rank.get(a.event.topic) ?? 0) - (rank.get(b.event.topic) ?? 0) || a.order - b.order,
  );
  return events.map((e) => e.event);
}
