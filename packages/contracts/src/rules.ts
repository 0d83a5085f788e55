/**
 * Rules of meaning that span several fields and so cannot be said in an Avro schema:
 * the score range of a survey depends on its kind, an invoice is due after it is issued.
 */
import type { ContractIssue } from './errors.ts';
import type { RecordName, RecordTypes } from './generated/avro.ts';

type Rule<R extends RecordName> = (record: RecordTypes[R]) => ContractIssue[];

const SCORE_RANGE = { NPS: [0, 10], CSAT: [1, 5] } as const;

const surveyRules: Rule<'SurveyResult'> = (survey) => {
  const issues: ContractIssue[] = [];
  if (survey.status === 'UNANSWERED' && survey.score !== null) {
    issues.push({ path: 'score', message: 'an unanswered survey has no score' });
  }
  if (survey.score !== null && (survey.kind === 'NPS' || survey.kind === 'CSAT')) {
    const [min, max] = SCORE_RANGE[survey.kind];
    if (survey.score < min || survey.score > max) {
      issues.push({ path: 'score', message: `${survey.kind} scores run from ${min} to ${max}, got ${survey.score}` });
    }
  }
  if (survey.status === 'ANSWERED' && survey.kind === 'NPS' && survey.score === null) {
    issues.push({ path: 'score', message: 'an answered NPS survey needs a score' });
  }
  return issues;
};

const invoiceRules: Rule<'InvoiceEvent'> = (invoice) => {
  const issues: ContractIssue[] = [];
  if (invoice.dueAt < invoice.issuedAt)
    issues.push({ path: 'dueAt', message: 'an invoice cannot be due before it is issued' });
  if (invoice.paidAt !== null && invoice.paidAt < invoice.issuedAt) {
    issues.push({ path: 'paidAt', message: 'an invoice cannot be paid before it is issued' });
  }
  if (invoice.costToServe !== null && invoice.status === 'CREDITED' && invoice.costToServe > invoice.amount) {
    issues.push({ path: 'costToServe', message: 'a credit note cannot carry more cost than its amount' });
  }
  return issues;
};

const alertRules: Rule<'ChurnAlert'> = (alert) =>
  alert.kind !== 'STRUCTURAL_ISSUE' && alert.customerId === null
    ? [{ path: 'customerId', message: `a ${alert.kind} alert is about one customer and needs its customerId` }]
    : [];

export const crossFieldRules: { readonly [R in RecordName]?: Rule<R> } = {
  SurveyResult: surveyRules,
  InvoiceEvent: invoiceRules,
  ChurnAlert: alertRules,
};
