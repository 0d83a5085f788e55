/**
 * Latency at a fixed share of the measured peak: cancellation produced -> its contact
 * task committed and readable.
 *
 * The pipeline (every service, exactly-once by default) runs in a process of its own
 * (pipeline-host.ts) and first catches up with a generated history that ends now. Then
 * this process produces live traffic at `rate` events/s, occurredAt = now: invoices
 * for known customers, and `cancellationShare` of it cancellations for known customers.
 * A read_committed consumer in this same process reads contact-center.tasks.v1; the
 * latency of a cancellation is from just before its send() call to the moment the
 * consumer sees the first task caused by it (tasks of a decision commit together).
 * Both timestamps come from this process's monotonic clock.
 *
 * After a warm-up, `reps` windows of `windowSeconds`: p50, p99 and max per window.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { CancellationRequested, InvoiceEvent } from '@churn/contracts';
import { CancellationReasonValues } from '@churn/contracts';
import type { Producer } from 'kafkajs';
import {
  benchKafka,
  benchSerde,
  createTopics,
  deleteGroups,
  deleteTopics,
  INPUT_TOPICS,
  percentile,
  pipelineLikeProducer,
  produceAll,
  progress,
  ROOT,
  sleep,
  summarize,
} from './common.ts';
import { encode, generate } from './workload.ts';

export interface LatencyArgs {
  customers: number;
  months: number;
  /** Live events per second (half of the pipeline's measured peak). */
  rate: number;
  rateSource: string;
  cancellationShare: number;
  warmupSeconds: number;
  windowSeconds: number;
  reps: number;
  mergeIdleMs: number;
  guarantee: 'exactly_once' | 'at_least_once';
}

const DAY = 86_400_000;
const MONTH = 30 * DAY;

interface Sent {
  at: number;
  window: number;
  seen: number | null;
}

function host() {
  const child = fork(join(ROOT, 'bench/lib/pipeline-host.ts'), [], {
    execArgv: ['--conditions=source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      child.once('message', (m: Record<string, unknown>) =>
        m.error ? reject(new Error(String(m.error))) : resolve(m),
      );
      child.once('exit', (code) => reject(new Error(`pipeline host exited ${code}`)));
    });
  return {
    async start(env: Record<string, string>) {
      const answer = next();
      child.send({ cmd: 'start', env });
      await answer;
    },
    async stages(): Promise<Record<string, { seconds: number; count: number }>> {
      const answer = next();
      child.send({ cmd: 'stages' });
      return (await answer).stages as Record<string, { seconds: number; count: number }>;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const answer = next().catch(() => ({}));
      child.send({ cmd: 'stop' });
      await Promise.race([answer, sleep(30_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

export async function run(args: LatencyArgs) {
  const kafka = benchKafka('churn-bench-latency');
  const serde = benchSerde();
  const admin = kafka.admin();
  await admin.connect();
  await deleteGroups(admin, () => true);
  await deleteTopics(admin, () => true);

  // A history that ends just before now, so that live events come after every partition's clock.
  const now = Date.now();
  const events = generate({
    customers: args.customers,
    months: args.months,
    seed: 7,
    start: Math.floor((now - args.months * MONTH) / DAY) * DAY - DAY,
  });
  const invoiceOf = new Map<string, InvoiceEvent>();
  for (const e of events) if (e.topic === 'billing.invoices.v1') invoiceOf.set(e.key, e.value as InvoiceEvent);
  const customers = [...invoiceOf.keys()];
  progress(`latency: history of ${events.length} events for ${customers.length} invoiced customers; producing`);
  await createTopics(admin, INPUT_TOPICS);
  await produceAll(kafka, await encode(events));

  const pipeline = host();
  const sent = new Map<string, Sent>();
  let producer: Producer | null = null;
  const consumer = kafka.consumer({
    groupId: `bench-latency-${crypto.randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  try {
    const started = performance.now();
    await pipeline.start({
      PROCESSING_GUARANTEE: args.guarantee,
      MERGE_IDLE_MS: String(args.mergeIdleMs),
    });
    progress(`latency: pipeline caught up with the history in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // The watcher: read_committed, from the end, so it sees only tasks of live cancellations.
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joined = true;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: 'contact-center.tasks.v1', fromBeginning: false });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const at = performance.now();
        for (const message of batch.messages) {
          const { value } = await serde.decode('contact-center.tasks.v1', message.value);
          const s = sent.get(value.causationId ?? '');
          if (s && s.seen === null) s.seen = at;
        }
      },
    });
    while (!joined) await sleep(50);
    await sleep(1_000);

    producer = pipelineLikeProducer(kafka);
    await producer.connect();
    const p = producer;
    // Encoding happens before the clock starts for a record: the figure is the pipeline's, not the producer's.
    let n = 0;
    const liveEvent = async (window: number) => {
      n++;
      const customerId = customers[(n * 7919) % customers.length]!;
      const at = Date.now();
      if (n % Math.round(1 / args.cancellationShare) === 0) {
        const cancellation: CancellationRequested = {
          eventId: crypto.randomUUID(),
          occurredAt: at,
          cancellationId: `live-${n}`,
          customerId,
          subscriptionId: null,
          effectiveAt: null,
          channel: 'WEB',
          reason: CancellationReasonValues[n % CancellationReasonValues.length]!,
          reasonText: null,
        };
        return {
          topic: 'customer.cancellations.v1',
          key: customerId,
          value: await serde.encode('customer.cancellations.v1', cancellation),
          track: { id: cancellation.eventId, window },
        };
      }
      const template = invoiceOf.get(customerId)!;
      const invoice: InvoiceEvent = {
        ...template,
        eventId: crypto.randomUUID(),
        occurredAt: at,
        invoiceId: `live-${n}`,
        status: 'ISSUED',
        issuedAt: at,
        dueAt: at + 30 * DAY,
        paidAt: null,
      };
      return {
        topic: 'billing.invoices.v1',
        key: customerId,
        value: await serde.encode('billing.invoices.v1', invoice),
        track: null,
      };
    };

    /** Produces at `rate` for `seconds`, tagging cancellations with `window` (-1: warm-up). */
    const drive = async (seconds: number, window: number) => {
      const t0 = performance.now();
      let produced = 0;
      const inFlight: Promise<unknown>[] = [];
      for (;;) {
        const elapsed = (performance.now() - t0) / 1000;
        if (elapsed >= seconds) break;
        const due = Math.floor(elapsed * args.rate) - produced;
        if (due > 0) {
          const batch = await Promise.all(Array.from({ length: due }, () => liveEvent(window)));
          const byTopic = new Map<string, Array<{ key: string; value: Buffer }>>();
          for (const e of batch) byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), e]);
          const at = performance.now();
          for (const e of batch) if (e.track) sent.set(e.track.id, { at, window: e.track.window, seen: null });
          inFlight.push(
            p.sendBatch({ topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })), acks: -1 }),
          );
          produced += due;
        }
        await sleep(5);
      }
      await Promise.all(inFlight);
      return produced;
    };

    await drive(args.warmupSeconds, -1);
    const stagesBefore = await pipeline.stages();
    progress(`latency: warm-up of ${args.warmupSeconds} s at ${args.rate} events/s done`);
    const windows: Array<{ p50: number; p99: number; max: number; count: number; missing: number }> = [];
    for (let w = 0; w < args.reps; w++) {
      const produced = await drive(args.windowSeconds, w);
      // Let the window's last cancellations through before the next window's load starts.
      const mine = () => [...sent.values()].filter((s) => s.window === w);
      const deadline = Date.now() + 10_000;
      while (mine().some((s) => s.seen === null) && Date.now() < deadline) await sleep(20);
      const latencies = mine()
        .filter((s) => s.seen !== null)
        .map((s) => (s.seen as number) - s.at)
        .sort((a, b) => a - b);
      const stats = {
        p50: Number(percentile(latencies, 50).toFixed(1)),
        p99: Number(percentile(latencies, 99).toFixed(1)),
        max: Number((latencies.at(-1) ?? Number.NaN).toFixed(1)),
        count: latencies.length,
        missing: mine().length - latencies.length,
        produced,
      };
      windows.push(stats);
      progress(
        `latency window ${w + 1}/${args.reps}: ${stats.count} cancellations, p50 ${stats.p50} ms, p99 ${stats.p99} ms, max ${stats.max} ms${stats.missing ? `, ${stats.missing} without a task` : ''}`,
      );
    }
    // Where the pipeline's time went during the windows: per service and stage, mean ms per batch.
    const stagesAfter = await pipeline.stages();
    const stages: Record<string, { count: number; meanMs: number }> = {};
    for (const [key, v] of Object.entries(stagesAfter)) {
      const b = stagesBefore[key] ?? { seconds: 0, count: 0 };
      const count = v.count - b.count;
      if (count > 0) stages[key] = { count, meanMs: Number(((1000 * (v.seconds - b.seconds)) / count).toFixed(2)) };
    }
    const all = [...sent.values()]
      .filter((s) => s.window >= 0 && s.seen !== null)
      .map((s) => (s.seen as number) - s.at)
      .sort((a, b) => a - b);
    return {
      rate: args.rate,
      rateSource: args.rateSource,
      cancellationShare: args.cancellationShare,
      guarantee: args.guarantee,
      mergeIdleMs: args.mergeIdleMs,
      historyEvents: events.length,
      windowSeconds: args.windowSeconds,
      p50Ms: summarize(
        windows.map((w) => w.p50),
        1,
      ),
      p99Ms: summarize(
        windows.map((w) => w.p99),
        1,
      ),
      maxMs: summarize(
        windows.map((w) => w.max),
        1,
      ),
      pooled: {
        count: all.length,
        p50: Number(percentile(all, 50).toFixed(1)),
        p90: Number(percentile(all, 90).toFixed(1)),
        p99: Number(percentile(all, 99).toFixed(1)),
        max: Number((all.at(-1) ?? Number.NaN).toFixed(1)),
      },
      windows,
      stages,
    };
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer?.disconnect().catch(() => {});
    await pipeline.stop();
    await deleteGroups(admin, () => true).catch(() => {});
    await admin.disconnect();
  }
}
