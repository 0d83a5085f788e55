/** The words agents read aloud: offers, reasons and tiers in plain language. */
import type { CancellationReason, Offer } from '@churn/contracts';

export const OFFER_WORDS: Readonly<Record<Offer, string>> = {
  PAUSE: 'a pause',
  DOWNGRADE: 'a cheaper plan (downgrade)',
  LOYALTY_BONUS: 'a loyalty bonus',
  PAYMENT_PLAN: 'a payment plan',
  SERVICE_RECOVERY: 'service recovery',
  ACCOUNT_MANAGER_MEETING: 'a meeting with the account manager',
  EXECUTIVE_ESCALATION: 'escalation to the executive sponsor',
  NONE: 'no offer',
};

export const REASON_WORDS: Readonly<Record<CancellationReason, string>> = {
  LIFE_CHANGE: 'their life changed',
  PRICE: 'of the price',
  SERVICE_ISSUE: 'of a service issue',
  PRODUCT_GAP: 'the product lacks something they need',
  COMPETITOR: 'of a competitor',
  PAYMENT_PROBLEM: 'of a payment problem',
  NO_LONGER_NEEDED: 'they no longer need the product',
  UNKNOWN: 'of a reason not given',
};

/** A share as a percentage, rounded to `decimals` places (whole percents by default). */
export function percent(p: number, decimals = 0): string {
  const f = 10 ** decimals;
  return `${Math.round(p * 100 * f) / f}%`;
}
