import { describe, expect, it } from 'vitest';
import { coPartitioningProblem } from './topics.ts';

describe('co-partitioning', () => {
  const inputs = ['customer.profiles.v1', 'billing.invoices.v1', 'customer.surveys.v1'];
  const changelog = 'svc-state-changelog';
  const counts = (entries: Array<[string, number]>) => new Map(entries);

  it('accepts inputs and a changelog with one partition count, and topics not created yet', () => {
    expect(coPartitioningProblem(counts(inputs.map((t) => [t, 6])), inputs, changelog)).toBeNull();
    expect(
      coPartitioningProblem(
        counts([...inputs.map((t): [string, number] => [t, 3]), [changelog, 3]]),
        inputs,
        changelog,
      ),
    ).toBeNull();
    expect(coPartitioningProblem(counts([]), inputs, changelog)).toBeNull();
  });

  it('names every input and its count when the inputs differ', () => {
    const problem = coPartitioningProblem(
      counts([
        ['customer.profiles.v1', 3],
        ['billing.invoices.v1', 6],
        ['customer.surveys.v1', 3],
      ]),
      inputs,
      changelog,
    );
    expect(problem).toContain('customer.profiles.v1 has 3 partitions');
    expect(problem).toContain('billing.invoices.v1 has 6 partitions');
    expect(problem).toContain('customer.surveys.v1 has 3 partitions');
  });

  it('refuses a changelog whose count is not the inputs', () => {
    const problem = coPartitioningProblem(
      counts([...inputs.map((t): [string, number] => [t, 3]), [changelog, 1]]),
      inputs,
      changelog,
    );
    expect(problem).toContain(`${changelog} has 1 partition `);
    expect(problem).toContain('customer.profiles.v1 has 3 partitions');
  });
});
