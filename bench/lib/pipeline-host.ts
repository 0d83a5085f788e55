/**
 * Hosts the pipeline in a process of its own while another process (the latency
 * figure) drives load and watches outputs, so that neither's work lands on the other's
 * event loop. Over IPC: `{ cmd: 'start', env }` starts every service and answers
 * `{ caughtUp: true }` once they have processed all their inputs; `{ cmd: 'stop' }`
 * stops them and exits.
 */
import type { RunningService } from '@churn/runtime';
import { benchKafka, sleep } from './common.ts';
import { pipelineDone, startPipeline } from './pipeline.ts';

let services: RunningService[] = [];

/** Seconds spent per service and stage (decode, process, encode, commit), and transactions, so far. */
export async function stageTotals(running: readonly RunningService[]) {
  const totals: Record<string, { seconds: number; count: number }> = {};
  for (const s of running) {
    for (const v of (await s.metrics.processingDuration.get()).values) {
      const key = `${v.labels.service}/${v.labels.stage}`;
      const name = (v as { metricName?: string }).metricName ?? '';
      const entry = totals[key] ?? { seconds: 0, count: 0 };
      if (name.endsWith('_sum')) entry.seconds += v.value;
      else if (name.endsWith('_count')) entry.count += v.value;
      totals[key] = entry;
    }
    for (const v of (await s.metrics.transactions.get()).values) {
      const key = `${v.labels.service}/transactions ${v.labels.result}`;
      totals[key] = { seconds: 0, count: (totals[key]?.count ?? 0) + v.value };
    }
  }
  return totals;
}

process.on(
  'message',
  (message: { cmd: 'start'; env: Record<string, string> } | { cmd: 'stop' } | { cmd: 'stages' }) => {
    void (async () => {
      try {
        if (message.cmd === 'start') {
          services = await Promise.all(startPipeline(message.env));
          const admin = benchKafka('churn-bench-host').admin();
          await admin.connect();
          const deadline = Date.now() + 600_000;
          while (!(await pipelineDone(admin, services))) {
            if (Date.now() > deadline) throw new Error('the pipeline did not catch up with its backlog in 10 minutes');
            await sleep(100);
          }
          await admin.disconnect();
          process.send?.({ caughtUp: true });
        } else if (message.cmd === 'stages') {
          process.send?.({ stages: await stageTotals(services) });
        } else {
          await Promise.all(services.map((s) => s.stop()));
          process.send?.({ stopped: true }, () => process.exit(0));
        }
      } catch (err) {
        process.send?.({ error: (err as Error).message }, () => process.exit(1));
      }
    })();
  },
);
process.on('disconnect', () => process.exit(0));
