import { describe, expect, it } from 'vitest';
import { ContractViolation } from './errors.ts';
import { aCancellation, aChurnDecision, anInvoice, aSurveyResult } from './testing/index.ts';
import { parseRecord, validateRecord } from './validate.ts';

const pathsOf = (result: ReturnType<typeof validateRecord>): string[] =>
  result.ok ? [] : result.issues.map((i) => i.path);

describe('validating a record against its contract', () => {
  it('accepts a record built by its fixture builder', () => {
    expect(validateRecord('CancellationRequested', aCancellation()).ok).toBe(true);
    expect(validateRecord('ChurnDecision', aChurnDecision()).ok).toBe(true);
  });

  it.each([
    ['an event id that is not a UUID', { eventId: 'evt-1' }, 'eventId'],
    ['a currency that is not an ISO 4217 code', { currency: 'kroner' }, 'currency'],
    ['a negative amount', { amount: -100 }, 'amount'],
    ['a fractional amount (money is in minor units)', { amount: 10.5 }, 'amount'],
    ['an empty customer id', { customerId: '' }, 'customerId'],
    ['a status the contract does not list', { status: 'LOST' }, 'status'],
    ['a due date before the issue date', { dueAt: 0 }, 'dueAt'],
  ])('refuses an invoice with %s', (_, override, path) => {
    expect(pathsOf(validateRecord('InvoiceEvent', { ...anInvoice(), ...override }))).toEqual([path]);
  });

  it.each([
    ['NPS', 11],
    ['NPS', -1],
    ['CSAT', 0],
    ['CSAT', 6],
  ] as const)('refuses a %s score of %i', (kind, score) => {
    const result = validateRecord('SurveyResult', aSurveyResult({ kind, score }));
    expect(pathsOf(result)).toEqual(['score']);
  });

  it('refuses a score on an unanswered survey', () => {
    expect(pathsOf(validateRecord('SurveyResult', aSurveyResult({ status: 'UNANSWERED', score: 3 })))).toEqual([
      'score',
    ]);
  });

  it('refuses a field the record does not have, also nested', () => {
    const decision = aChurnDecision();
    const result = validateRecord('ChurnDecision', {
      ...decision,
      respondby: 1,
      value: { ...decision.value, teir: 'A' },
    });
    expect(pathsOf(result).sort()).toEqual(['respondby', 'value.teir']);
  });

  it('fills in defaults for the fields a producer leaves out', () => {
    const { channel: _c, reason: _r, reasonText: _t, ...minimal } = aCancellation();
    const value = parseRecord('CancellationRequested', minimal);
    expect(value).toMatchObject({ channel: 'OTHER', reason: 'UNKNOWN', reasonText: null });
  });

  it('throws a ContractViolation whose message names every bad field', () => {
    expect(() =>
      parseRecord('CancellationRequested', { ...aCancellation(), reason: 'BORED', occurredAt: 'yesterday' }),
    ).toThrow(ContractViolation);
    expect(() =>
      parseRecord('CancellationRequested', { ...aCancellation(), reason: 'BORED', occurredAt: 'yesterday' }),
    ).toThrow(/occurredAt: .*; reason: /);
  });
});
