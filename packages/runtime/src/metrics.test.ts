import type { LearningSnapshot } from '@churn/contracts';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startOpsServer } from './http.ts';
import { DROPPED_DEFAULT_METRICS, PipelineMetrics, queueLabel } from './metrics.ts';

const MIDNIGHT = Date.UTC(2026, 2, 1);

function aSnapshot(partition: number, arms: LearningSnapshot['arms'], at = MIDNIGHT): LearningSnapshot {
  return { eventId: `snapshot-${at}-${partition}`, occurredAt: at, partition, saves: [], exposures: [], arms };
}

/** The samples of one metric as `{labels} value` lines, e.g. `{arm="control"} 12`. */
async function samples(metrics: PipelineMetrics, name: string): Promise<Map<string, number>> {
  const text = await metrics.registry.getSingleMetricAsString(name);
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{arm="([^"]*)"\} (\S+)$/.exec(line);
    if (match !== null && match[1] === name) out.set(match[2] as string, Number(match[3]));
  }
  return out;
}

describe('PipelineMetrics: experiment gauges', () => {
  it("sets tries, saves and the save rate of every arm from a learning snapshot's copy for partition 0", async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    const snapshot = aSnapshot(0, [
      { arm: 'control', saves: 12, tries: 30 },
      { arm: 'generous', saves: 21, tries: 35 },
    ]);
    metrics.countOutput('churn-learning.snapshots', snapshot);

    const tries = await samples(metrics, 'churn_experiment_tries');
    const saves = await samples(metrics, 'churn_experiment_saves');
    const rates = await samples(metrics, 'churn_experiment_save_rate');
    for (const arm of snapshot.arms) {
      expect(tries.get(arm.arm), arm.arm).toBe(arm.tries);
      expect(saves.get(arm.arm), arm.arm).toBe(arm.saves);
      expect(rates.get(arm.arm), arm.arm).toBeCloseTo(arm.saves / arm.tries, 12);
    }
    expect([...tries.keys()].sort()).toEqual(['control', 'generous']);
    expect(await metrics.registry.getSingleMetricAsString('churn_experiment_save_rate')).toContain(
      "# HELP churn_experiment_save_rate Saves over tries per experiment arm (0-1), cumulative as of the latest learning snapshot's midnight",
    );
  });

  it("follows the latest snapshot, ignores the other partitions' copies, and gives no rate without tries", async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    metrics.countOutput('churn-learning.snapshots', aSnapshot(0, [{ arm: 'control', saves: 1, tries: 2 }]));
    // Another partition's copy (here with other numbers) changes nothing.
    metrics.countOutput('churn-learning.snapshots', aSnapshot(1, [{ arm: 'control', saves: 9, tries: 9 }]));
    expect((await samples(metrics, 'churn_experiment_tries')).get('control')).toBe(2);

    const next = aSnapshot(
      0,
      [
        { arm: 'control', saves: 4, tries: 10 },
        { arm: 'lean', saves: 0, tries: 0 },
      ],
      MIDNIGHT + 86_400_000,
    );
    metrics.countOutput('churn-learning.snapshots', next);
    const tries = await samples(metrics, 'churn_experiment_tries');
    const rates = await samples(metrics, 'churn_experiment_save_rate');
    expect(tries.get('control')).toBe(10);
    expect(rates.get('control')).toBeCloseTo(0.4, 12);
    expect(tries.get('lean')).toBe(0);
    expect((await samples(metrics, 'churn_experiment_saves')).get('lean')).toBe(0);
    expect(rates.has('lean')).toBe(false);
  });

  it('counts tasks by kind, queue and priority, with every account owner as one queue', async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    for (const queue of ['owner:am-1', 'owner:am-2', 'contact-center'])
      metrics.countOutput('contact-center.tasks.v1', { kind: 'RETENTION_CALL', queue, priority: 'HIGH' });
    const counted = (await metrics.tasks.get()).values.map((v) => [v.labels.queue, v.value]);
    expect(counted.sort()).toEqual([
      [queueLabel('contact-center'), 1],
      [queueLabel('owner:am-1'), 2],
    ]);
    expect(queueLabel('owner:am-1')).toBe(queueLabel('owner:am-2'));
    expect(queueLabel('owner:am-1')).not.toContain('am-1');
  });

  it('leaves the experiment gauges alone for other records', async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    metrics.countOutput('churn.decisions.v1', { action: 'WIN_BACK', offer: 'PAUSE', tier: 'B' });
    expect((await samples(metrics, 'churn_experiment_tries')).size).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('churn_decisions_total')).toContain(
      'churn_decisions_total{action="WIN_BACK",offer="PAUSE",tier="B"} 1',
    );
  });
});

describe('PipelineMetrics: default process metrics', () => {
  it('exports no gauge under a counter\'s "_total" name, and keeps the by-type gauges of the dropped totals', async () => {
    const metrics = new PipelineMetrics();
    const exported = await metrics.registry.getMetricsAsJSON();
    const types = new Map(exported.map((m) => [m.name, String(m.type)]));
    // prom-client's defaults are there (the check below looks at them, not at nothing).
    expect([...types.keys()].filter((n) => n.startsWith('nodejs_') || n.startsWith('process_')).length).toBeGreaterThan(
      5,
    );
    const misnamed = [...types].filter(([name, type]) => name.endsWith('_total') && type !== 'counter');
    expect(misnamed).toEqual([]);
    for (const dropped of DROPPED_DEFAULT_METRICS) {
      expect(types.has(dropped), dropped).toBe(false);
      expect(types.get(dropped.replace(/_total$/, '')), dropped).toBe('gauge');
    }
  });
});

describe('PipelineMetrics: churn_ready', () => {
  function aSource(name: string, ready: boolean) {
    return {
      name,
      ready,
      isReady() {
        return this.ready;
      },
      isAlive: () => true,
    };
  }

  it('reports per service what /readyz answers, as readiness changes', async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    const sources = [aSource('churn-decisions', false), aSource('churn-learning', true)];
    const ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry: metrics.registry,
      sources: () => sources,
    });
    onTestFinished(() => ops.close());
    const scrape = async () => {
      const text = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
      const out = new Map<string, number>();
      for (const m of text.matchAll(/^churn_ready\{service="([^"]*)"\} (\S+)$/gm))
        out.set(m[1] as string, Number(m[2]));
      return out;
    };
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${ops.port}/readyz`);
      return { status: res.status, body: (await res.json()) as Record<string, boolean> };
    };

    for (const step of [
      () => {},
      () => {
        (sources[0] as { ready: boolean }).ready = true;
      },
      () => {
        (sources[1] as { ready: boolean }).ready = false;
      },
    ]) {
      step();
      const [gauge, answer] = [await scrape(), await readyz()];
      for (const s of sources) {
        expect(gauge.get(s.name), s.name).toBe(s.isReady() ? 1 : 0);
        expect(answer.body[s.name], s.name).toBe(s.isReady());
      }
      expect([...gauge.keys()].sort()).toEqual(sources.map((s) => s.name).sort());
      // /readyz answers 200 exactly when every service's gauge is 1.
      expect(answer.status === 200).toBe([...gauge.values()].every((v) => v === 1));
    }
  });

  it('has no samples while no ops server reports for the registry', async () => {
    const metrics = new PipelineMetrics({ defaultMetrics: false });
    expect(await metrics.registry.getSingleMetricAsString('churn_ready')).not.toMatch(/^churn_ready\{/m);
  });
});
