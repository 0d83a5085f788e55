import type { ChurnAlert, ContactTask, CustomerValue } from '@churn/contracts';
import { validateRecord } from '@churn/contracts';
import { describe, expect, it } from 'vitest';
import { signalInvoice } from './invoice-signals.ts';
import { aB2bCustomer, aB2cCustomer, aContext, anInvoiceOf } from './testing/index.ts';

function signal(value: CustomerValue | null, status: 'OVERDUE' | 'ISSUED' | 'PAID' = 'OVERDUE') {
  const event = anInvoiceOf({ invoiceId: 'inv-77', status, amount: 12_500 });
  const result = signalInvoice(event, { value, signalled: [] }, aContext());
  const tasks = result.emit.filter((e) => e.topic === 'contact-center.tasks.v1').map((e) => e.value as ContactTask);
  const alerts = result.emit.filter((e) => e.topic === 'churn.alerts.v1').map((e) => e.value as ChurnAlert);
  return { ...result, tasks, alerts, event };
}

describe('signalling invoices', () => {
  it.each([
    ['A', aB2bCustomer({ revenue12m: 600_000 }), true, true],
    ['B', aB2bCustomer({ revenue12m: 150_000 }), true, true],
    ['C', aB2bCustomer({ revenue12m: 30_000 }), true, false],
    ['D', aB2bCustomer({ revenue12m: 5_000 }), false, false],
  ])(
    'for an overdue invoice of a tier %s customer: payment follow-up %s, payment-risk alert %s',
    (_tier, value, task, alert) => {
      const { tasks, alerts } = signal(value);
      expect(tasks.some((t) => t.kind === 'PAYMENT_FOLLOW_UP')).toBe(task);
      expect(alerts.some((a) => a.kind === 'PAYMENT_RISK')).toBe(alert);
    },
  );

  it('sends the payment follow-up to the owner and the risk alert to the owner', () => {
    const { tasks, alerts } = signal(aB2bCustomer({ revenue12m: 600_000, accountManager: 'am-9' }));
    expect(tasks[0]).toMatchObject({ queue: 'owner:am-9', priority: 'P1' });
    expect(alerts[0]).toMatchObject({ owner: 'am-9' });
    expect(tasks[0]?.instructions).toContain('12 500 DKK');
  });

  it('says nothing about invoices that are not overdue', () => {
    expect(signal(aB2bCustomer({ revenue12m: 600_000 }), 'ISSUED').emit).toEqual([]);
    expect(signal(aB2bCustomer({ revenue12m: 600_000 }), 'PAID').emit).toEqual([]);
  });

  it('signals an invoice once, even when its OVERDUE event comes again', () => {
    const first = signal(aB2cCustomer({ revenue12m: 5_000 }));
    expect(first.tasks).toHaveLength(1);
    const again = signalInvoice(
      { ...first.event, eventId: '0b1c9e2a-0000-4000-8000-000000000001' },
      first.state,
      aContext(),
    );
    expect(again.emit).toEqual([]);
  });

  it('names the OVERDUE event as the cause and satisfies the contracts', () => {
    const { emit, event } = signal(aB2bCustomer({ revenue12m: 600_000 }));
    for (const e of emit) {
      const record = e.topic === 'contact-center.tasks.v1' ? 'ContactTask' : 'ChurnAlert';
      expect(validateRecord(record, e.value)).toMatchObject({ ok: true });
      expect((e.value as ContactTask).causationId).toBe(event.eventId);
    }
  });

  it('does not signal an overdue invoice of a customer of unknown value (tier D by default)', () => {
    expect(signal(null).emit).toEqual([]);
  });
});
