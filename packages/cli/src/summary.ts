/** A readable summary of a run's outputs: what was decided, who has work, what was raised. */
import type { ChurnAlert, ChurnDecision, ContactTask } from '@churn/contracts';
import type { OutputRecord } from '@churn/runtime';

export class RunSummary {
  readonly decisions = new Map<string, number>();
  readonly tasks = new Map<string, number>();
  readonly alerts = new Map<string, number>();
  /** Remaining lifetime value (minor units) per currency of customers we try to keep / let go. */
  readonly kept = new Map<string, number>();
  readonly letGo = new Map<string, number>();
  readonly expected = new Map<string, number>();
  values = 0;

  add(record: OutputRecord): void {
    const bump = (map: Map<string, number>, key: string, by = 1) => map.set(key, (map.get(key) ?? 0) + by);
    if (record.topic === 'churn.decisions.v1') {
      const d = record.value as ChurnDecision;
      bump(this.decisions, `${d.action} / ${d.offer}`);
      bump(d.action === 'WIN_BACK' ? this.kept : this.letGo, d.value.currency, d.value.remainingLifetimeValue);
      bump(this.expected, d.value.currency, d.expectedValue);
    } else if (record.topic === 'contact-center.tasks.v1') {
      const t = record.value as ContactTask;
      const queue = t.queue.startsWith('owner:') ? 'owner:<named owner>' : t.queue;
      bump(this.tasks, `${queue} / ${t.priority}`);
    } else if (record.topic === 'churn.alerts.v1') {
      const a = record.value as ChurnAlert;
      bump(this.alerts, `${a.kind} (${a.severity})`);
    } else if (record.topic === 'churn.customer-value.v1') {
      this.values++;
    }
  }

  render(): string {
    const table = (title: string, map: Map<string, number>) => {
      const rows = [...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const total = rows.reduce((s, [, n]) => s + n, 0);
      const width = Math.max(title.length, ...rows.map(([k]) => k.length + 2));
      return [
        `${title.padEnd(width)}  ${String(total).padStart(7)}`,
        ...rows.map(([k, n]) => `  ${k.padEnd(width - 2)}  ${String(n).padStart(7)}`),
      ].join('\n');
    };
    const money = (map: Map<string, number>) =>
      [...map]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(
          ([cur, minor]) =>
            `${Math.round(minor / 100)
              .toLocaleString('en-US')
              .replace(/,/g, ' ')} ${cur}`,
        )
        .join(', ') || '0';
    return [
      table('Decisions (action / offer)', this.decisions),
      '',
      table('Tasks (queue / priority)', this.tasks),
      '',
      table('Alerts (kind)', this.alerts),
      '',
      'Value at stake (remaining lifetime value of the customers decided on)',
      `  kept (win-back attempted):       ${money(this.kept)}`,
      `  let go (graceful offboarding):   ${money(this.letGo)}`,
      `  expected value of chosen offers: ${money(this.expected)}`,
      `Customer value snapshots: ${this.values}`,
    ].join('\n');
  }
}
