/**
 * The pipeline's Prometheus metrics. One registry per process; every service in the
 * process shares it and labels what it counts with `service`.
 */
import type { LearningSnapshot } from '@churn/contracts';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * prom-client's default gauges whose names end in `_total`, which the Prometheus text
 * format keeps for counters (`promtool check metrics` reports them). Their values are
 * the sums of the gauges of the same name without `_total`, which prom-client exports
 * by `type` (`sum without (type) (nodejs_active_handles)`), so they are dropped.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** What /readyz asks of each runner of the process (see http.ts). */
export interface ReadinessSource {
  /** Name shown in /readyz and in the `service` label of `churn_ready`. */
  readonly name: string;
  isReady(): boolean;
}

/** The runners whose readiness a registry's `churn_ready` reports: set by the ops server. */
const readinessSources = new WeakMap<Registry, () => readonly ReadinessSource[]>();

/**
 * Makes the `churn_ready` gauge of a PipelineMetrics registry report the readiness of
 * these sources, the runners the ops server's /readyz answers for.
 */
export function reportReadiness(registry: Registry, sources: () => readonly ReadinessSource[]): void {
  readinessSources.set(registry, sources);
}

export class PipelineMetrics {
  readonly registry: Registry;
  readonly eventsConsumed: Counter<'service' | 'topic'>;
  readonly eventsProduced: Counter<'service' | 'topic'>;
  readonly decisions: Counter<'action' | 'offer' | 'tier'>;
  readonly tasks: Counter<'kind' | 'queue' | 'priority'>;
  readonly alerts: Counter<'kind' | 'severity'>;
  readonly deadLetters: Counter<'service' | 'topic' | 'reason'>;
  readonly processingDuration: Histogram<'service' | 'stage'>;
  readonly decisionLatency: Histogram;
  readonly consumerLag: Gauge<'service' | 'topic' | 'partition'>;
  readonly stateCustomers: Gauge<'service'>;
  readonly stateRestoreDuration: Histogram<'service'>;
  readonly retries: Counter<'service' | 'reason'>;
  readonly transactions: Counter<'service' | 'result'>;
  readonly experimentTries: Gauge<'arm'>;
  readonly experimentSaves: Gauge<'arm'>;
  readonly experimentSaveRate: Gauge<'arm'>;
  readonly ready: Gauge<'service'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of DROPPED_DEFAULT_METRICS) this.registry.removeSingleMetric(name);
    }
    const registers = [this.registry];
    const registry = this.registry;
    this.ready = new Gauge({
      name: 'churn_ready',
      help: 'Per service (runner) of the process: 1 when it is ready (its partitions assigned and their state restored, as /readyz reports), 0 when not.',
      labelNames: ['service'],
      registers,
      collect() {
        this.reset();
        for (const source of readinessSources.get(registry)?.() ?? []) {
          this.set({ service: source.name }, source.isReady() ? 1 : 0);
        }
      },
    });
    this.eventsConsumed = new Counter({
      name: 'churn_events_consumed_total',
      help: 'Input records consumed, by service and topic.',
      labelNames: ['service', 'topic'],
      registers,
    });
    this.eventsProduced = new Counter({
      name: 'churn_events_produced_total',
      help: 'Output records produced, by service and topic.',
      labelNames: ['service', 'topic'],
      registers,
    });
    this.decisions = new Counter({
      name: 'churn_decisions_total',
      help: 'Decisions on cancellations, by action, offer and tier.',
      labelNames: ['action', 'offer', 'tier'],
      registers,
    });
    this.tasks = new Counter({
      name: 'churn_tasks_total',
      help: 'Contact tasks emitted, by kind, queue (owner for every account owner) and priority.',
      labelNames: ['kind', 'queue', 'priority'],
      registers,
    });
    this.alerts = new Counter({
      name: 'churn_alerts_total',
      help: 'Alerts emitted, by kind and severity.',
      labelNames: ['kind', 'severity'],
      registers,
    });
    this.deadLetters = new Counter({
      name: 'churn_dead_letters_total',
      help: 'Records sent to a dead-letter topic, by source topic and reason (error code).',
      labelNames: ['service', 'topic', 'reason'],
      registers,
    });
    this.processingDuration = new Histogram({
      name: 'churn_processing_duration_seconds',
      help: 'Time spent per stage of a batch: decode, process, encode, commit.',
      labelNames: ['service', 'stage'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.decisionLatency = new Histogram({
      name: 'churn_decision_latency_seconds',
      help: "From a cancellation's occurredAt to its decision being produced.",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.consumerLag = new Gauge({
      name: 'churn_consumer_lag',
      help: 'Records between the last processed offset and the high watermark, per input partition.',
      labelNames: ['service', 'topic', 'partition'],
      registers,
    });
    this.stateCustomers = new Gauge({
      name: 'churn_state_customers',
      help: 'Keys (customers) held in the state stores of this process.',
      labelNames: ['service'],
      registers,
    });
    this.stateRestoreDuration = new Histogram({
      name: 'churn_state_restore_duration_seconds',
      help: 'Time to restore state from the changelog after a partition assignment.',
      labelNames: ['service'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 20, 60, 120],
      registers,
    });
    this.retries = new Counter({
      name: 'churn_retries_total',
      help: 'Batches retried after a transient error (broker, registry).',
      labelNames: ['service', 'reason'],
      registers,
    });
    this.transactions = new Counter({
      name: 'churn_transactions_total',
      help: 'Kafka transactions, by result (committed, aborted).',
      labelNames: ['service', 'result'],
      registers,
    });
    this.experimentTries = new Gauge({
      name: 'churn_experiment_tries',
      help: "Retention outcomes counted (saved or lost) per experiment arm, cumulative as of the latest learning snapshot's midnight.",
      labelNames: ['arm'],
      registers,
    });
    this.experimentSaves = new Gauge({
      name: 'churn_experiment_saves',
      help: "Retention outcomes counted as saved per experiment arm, cumulative as of the latest learning snapshot's midnight.",
      labelNames: ['arm'],
      registers,
    });
    this.experimentSaveRate = new Gauge({
      name: 'churn_experiment_save_rate',
      help: "Saves over tries per experiment arm (0-1), cumulative as of the latest learning snapshot's midnight; absent while an arm has no tries.",
      labelNames: ['arm'],
      registers,
    });
  }

  /**
   * Counts the business content of an output record (decisions, tasks, alerts), and sets
   * the experiment gauges from a learning snapshot (the copy for partition 0: every
   * partition gets the same counts).
   */
  countOutput(topic: string, value: unknown): void {
    const v = value as Record<string, string>;
    if (topic === 'churn.decisions.v1') this.decisions.inc({ action: v.action, offer: v.offer, tier: v.tier });
    else if (topic === 'contact-center.tasks.v1')
      this.tasks.inc({ kind: v.kind, queue: queueLabel(v.queue ?? ''), priority: v.priority });
    else if (topic === 'churn.alerts.v1') this.alerts.inc({ kind: v.kind, severity: v.severity });
    else if (topic === 'churn-learning.snapshots') this.#setExperimentGauges(value as LearningSnapshot);
  }

  #setExperimentGauges(snapshot: LearningSnapshot): void {
    if (snapshot.partition !== 0) return;
    for (const { arm, saves, tries } of snapshot.arms ?? []) {
      this.experimentTries.set({ arm }, Number(tries));
      this.experimentSaves.set({ arm }, Number(saves));
      if (Number(tries) > 0) this.experimentSaveRate.set({ arm }, Number(saves) / Number(tries));
      else this.experimentSaveRate.remove({ arm });
    }
  }
}

/**
 * A task's queue as a label: the named queues as they are, and `owner` for every
 * `owner:<id>` queue, so that the series stay few whatever the number of account owners.
 */
export function queueLabel(queue: string): string {
  return queue.startsWith('owner:') ? 'owner' : queue;
}
