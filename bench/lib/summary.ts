/**
 * The summary table of a benchmark run: every figure's median (min - max), its ratio to
 * its reference (raw kafkajs passthrough for throughput, JSON for serde, the at-least-once
 * pipeline for exactly-once, the Kafka Streams peer for the pipeline, the target
 * otherwise) and whether its target is met. A ratio whose one side did not run shows as
 * a row without figures that says which.
 */
import type { Summary } from './common.ts';

export interface Row {
  figure: string;
  unit: string;
  /** null: a ratio one of whose figures did not run (`missing` says which). */
  median: number | null;
  min: number | null;
  max: number | null;
  missing?: string;
  reference: string;
  ratio: number | null;
  target: string;
  met: boolean | null;
}

type Results = Record<string, Record<string, unknown> | undefined>;

function get(results: Results, path: string): Summary | undefined {
  const [figure, ...rest] = path.split('.');
  let v: unknown = results[figure!];
  for (const key of rest) v = (v as Record<string, unknown> | undefined)?.[key];
  const s = v as Summary | undefined;
  return s && typeof s.median === 'number' && !Number.isNaN(s.median) ? s : undefined;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** The Kafka Streams peer's figures (bench/lib/peer.ts), by results key. */
const PEERS = [
  ['peerKafkaStreamsStateful', 'exactly-once, stateful (RocksDB)'],
  ['peerKafkaStreamsInMemory', 'exactly-once, stateful (in-memory store)'],
  ['peerKafkaStreamsPassthrough', 'exactly-once, passthrough'],
] as const;

export function summaryRows(results: Results): Row[] {
  const rows: Row[] = [];
  const raw = get(results, 'passthroughKafkajs.eventsPerSecond');
  const add = (
    figure: string,
    path: string,
    unit: string,
    reference: { name: string; value: number | undefined },
    target: { text: string; ok?: (s: Summary) => boolean } = { text: '' },
  ) => {
    const s = get(results, path);
    if (!s) return;
    rows.push({
      figure,
      unit,
      median: s.median,
      min: s.min,
      max: s.max,
      reference: reference.name,
      ratio: reference.value ? round(s.median / reference.value) : null,
      target: target.text,
      met: target.ok ? target.ok(s) : null,
    });
  };
  const vsRaw = { name: 'raw kafkajs passthrough', value: raw?.median };
  add('Raw passthrough, kafkajs (reference)', 'passthroughKafkajs.eventsPerSecond', 'events/s', vsRaw);
  add('Raw passthrough, kafkajs, transactional', 'passthroughKafkajsTransactional.eventsPerSecond', 'events/s', vsRaw);
  add('Raw passthrough, @platformatic/kafka', 'passthroughPlatformatic.eventsPerSecond', 'events/s', vsRaw);
  add(
    'Raw passthrough, kafkajs, transactional, one group per service',
    'passthroughKafkajsFanOut.eventsPerSecond',
    'events/s',
    vsRaw,
  );
  const eos = get(results, 'pipelineExactlyOnce.eventsPerSecond');
  const alos = get(results, 'pipelineAtLeastOnce.eventsPerSecond');
  add('Pipeline (engine), exactly-once', 'pipelineExactlyOnce.eventsPerSecond', 'events/s', vsRaw);
  add('Pipeline (engine), at-least-once', 'pipelineAtLeastOnce.eventsPerSecond', 'events/s', vsRaw, {
    text: '>= 0.5 x raw',
    ok: (s) => raw !== undefined && s.median / raw.median >= 0.5,
  });
  add(
    'Pipeline (one service per processor), exactly-once',
    'pipelineServicesExactlyOnce.eventsPerSecond',
    'events/s',
    vsRaw,
  );
  add(
    'Pipeline (one service per processor), at-least-once',
    'pipelineServicesAtLeastOnce.eventsPerSecond',
    'events/s',
    vsRaw,
  );
  const services = get(results, 'pipelineServicesExactlyOnce.eventsPerSecond');
  add('Engine / one service per processor, exactly-once', 'pipelineExactlyOnce.eventsPerSecond', 'events/s', {
    name: 'one service per processor, exactly-once',
    value: services?.median,
  });
  const servicesCpu = get(results, 'pipelineServicesExactlyOnce.eventsPerCpuSecond');
  add(
    'Engine / one service per processor, exactly-once, per CPU second',
    'pipelineExactlyOnce.eventsPerCpuSecond',
    'events/CPU s',
    { name: 'one service per processor, exactly-once, per CPU second', value: servicesCpu?.median },
  );
  for (const [key, label] of PEERS) add(`Kafka Streams peer, ${label}`, `${key}.eventsPerSecond`, 'events/s', vsRaw);
  // The same by CPU time of the measured process: on a shared machine, wall time also
  // measures the neighbours.
  const rawCpu = get(results, 'passthroughKafkajs.eventsPerCpuSecond');
  const vsRawCpu = { name: 'raw kafkajs passthrough, per CPU second', value: rawCpu?.median };
  add(
    'Raw passthrough, kafkajs, per CPU second (reference)',
    'passthroughKafkajs.eventsPerCpuSecond',
    'events/CPU s',
    vsRawCpu,
  );
  add(
    'Raw passthrough, @platformatic/kafka, per CPU second',
    'passthroughPlatformatic.eventsPerCpuSecond',
    'events/CPU s',
    vsRawCpu,
  );
  // Exactly-once passthrough with @platformatic/kafka, and the other ways of cutting
  // transactions (--txn-variants), against raw kafkajs and against kafkajs transactional.
  const kTxn = get(results, 'passthroughKafkajsTransactional.eventsPerSecond');
  const kTxnCpu = get(results, 'passthroughKafkajsTransactional.eventsPerCpuSecond');
  const vsTxn = { name: 'kafkajs transactional passthrough', value: kTxn?.median };
  const vsTxnCpu = { name: 'kafkajs transactional passthrough, per CPU second', value: kTxnCpu?.median };
  const transactional: Array<[string, string]> = [
    ['passthroughPlatformaticTransactional', 'Raw passthrough, @platformatic/kafka, transactional'],
  ];
  for (const key of Object.keys(results).filter((k) => /^passthrough(Kafkajs|Platformatic)Txn/.test(k))) {
    const t = (results[key] as { txn?: Record<string, unknown> } | undefined)?.txn;
    const how = t
      ? [
          t.producers === 'instance' ? 'one producer' : 'a producer per partition',
          `<= ${t.maxRecords} records`,
          t.intervalMs ? `open ${t.intervalMs} ms` : '',
          t.pipeline ? 'pipelined' : '',
        ].filter(Boolean)
      : [];
    const client = key.startsWith('passthroughKafkajs') ? 'kafkajs' : '@platformatic/kafka';
    transactional.push([key, `Raw passthrough, ${client}, transactional (${how.join(', ')})`]);
  }
  for (const [key, label] of transactional) {
    add(label, `${key}.eventsPerSecond`, 'events/s', vsRaw);
    add(`${label}, per CPU second`, `${key}.eventsPerCpuSecond`, 'events/CPU s', vsRawCpu);
    add(`${label} / kafkajs transactional`, `${key}.eventsPerSecond`, 'events/s', vsTxn);
    add(`${label} / kafkajs transactional, per CPU second`, `${key}.eventsPerCpuSecond`, 'events/CPU s', vsTxnCpu);
  }
  add(
    'Raw passthrough, kafkajs, transactional, one group per service, per CPU second',
    'passthroughKafkajsFanOut.eventsPerCpuSecond',
    'events/CPU s',
    vsRawCpu,
  );
  add(
    'Pipeline (engine), exactly-once, per CPU second',
    'pipelineExactlyOnce.eventsPerCpuSecond',
    'events/CPU s',
    vsRawCpu,
  );
  add(
    'Pipeline (engine), at-least-once, per CPU second',
    'pipelineAtLeastOnce.eventsPerCpuSecond',
    'events/CPU s',
    vsRawCpu,
  );
  add(
    'Pipeline (one service per processor), exactly-once, per CPU second',
    'pipelineServicesExactlyOnce.eventsPerCpuSecond',
    'events/CPU s',
    vsRawCpu,
  );
  for (const [key, label] of PEERS)
    add(`Kafka Streams peer, ${label}, per CPU second`, `${key}.eventsPerCpuSecond`, 'events/CPU s', vsRawCpu);
  if (eos && alos) {
    rows.push({
      figure: 'Exactly-once / at-least-once pipeline',
      unit: 'ratio',
      median: round(eos.median / alos.median),
      min: round(eos.min / alos.max),
      max: round(eos.max / alos.min),
      reference: 'pipeline, at-least-once',
      ratio: round(eos.median / alos.median),
      target: '>= 0.7',
      met: eos.median / alos.median >= 0.7,
    });
  }
  const eosCpu = get(results, 'pipelineExactlyOnce.eventsPerCpuSecond');
  const alosCpu = get(results, 'pipelineAtLeastOnce.eventsPerCpuSecond');
  if (eosCpu && alosCpu) {
    rows.push({
      figure: 'Exactly-once / at-least-once pipeline, per CPU second',
      unit: 'ratio',
      median: round(eosCpu.median / alosCpu.median),
      min: round(eosCpu.min / alosCpu.max),
      max: round(eosCpu.max / alosCpu.min),
      reference: 'pipeline, at-least-once, per CPU second',
      ratio: round(eosCpu.median / alosCpu.median),
      target: '>= 0.7',
      met: eosCpu.median / alosCpu.median >= 0.7,
    });
  }
  // The pipeline against the peer a user would pick instead (same backlog, same broker).
  const vsPeer = (suffix: string, metric: string) => {
    const figure = `Engine, exactly-once / Kafka Streams peer, stateful (RocksDB)${suffix}`;
    const reference = `Kafka Streams peer, stateful${suffix}`;
    const pipeline = get(results, `pipelineExactlyOnce.${metric}`);
    const peer = get(results, `peerKafkaStreamsStateful.${metric}`);
    if (!pipeline && !peer) return;
    if (!pipeline || !peer) {
      const missing = !pipeline ? 'pipelineExactlyOnce' : 'peerKafkaStreamsStateful';
      rows.push({
        figure,
        unit: 'ratio',
        median: null,
        min: null,
        max: null,
        missing,
        reference,
        ratio: null,
        target: '',
        met: null,
      });
      return;
    }
    rows.push({
      figure,
      unit: 'ratio',
      median: round(pipeline.median / peer.median),
      min: round(pipeline.min / peer.max),
      max: round(pipeline.max / peer.min),
      reference,
      ratio: round(pipeline.median / peer.median),
      target: '>= 0.5 (parity the aim)',
      met: pipeline.median / peer.median >= 0.5,
    });
  };
  vsPeer('', 'eventsPerSecond');
  vsPeer(', per CPU second', 'eventsPerCpuSecond');
  // Latency targets: at the low rate p50 <= 5 ms and p99 <= 25 ms; at half the peak p99 <= 500 ms.
  for (const [key, label, p50, p99] of [
    ['latency', 'exactly-once, half the peak', null, 500],
    ['latencyAtLeastOnce', 'at-least-once, half the peak', null, null],
    ['latencyLowRate', 'exactly-once, low rate', 5, 25],
    ['latencyLowRateNoMergeWait', 'exactly-once, low rate, MERGE_IDLE_MS=0', null, null],
  ] as const) {
    const rate = (results[key] as { rate?: number } | undefined)?.rate;
    for (const [stat, bound] of [
      ['p50', p50],
      ['p99', p99],
    ] as const) {
      add(
        `Latency ${stat}, ${label} (${rate ?? '?'} events/s)`,
        `${key}.${stat}Ms`,
        'ms',
        { name: 'target', value: bound ?? undefined },
        bound === null ? { text: '' } : { text: `<= ${bound} ms`, ok: (s) => s.median <= bound },
      );
    }
  }
  // Scale-out: engine instances, each its own process, over six partitions.
  const scale = (results.scaleOut as { instances?: Record<string, unknown> } | undefined)?.instances ?? {};
  const one = get(results, 'scaleOut.instances.1.eventsPerSecond');
  const oneCpu = get(results, 'scaleOut.instances.1.eventsPerCpuSecond');
  for (const n of Object.keys(scale)) {
    add(`Scale-out, ${n} engine instance(s), 6 partitions`, `scaleOut.instances.${n}.eventsPerSecond`, 'events/s', {
      name: 'one instance',
      value: one?.median,
    });
    add(
      `Scale-out, ${n} engine instance(s), 6 partitions, per CPU second`,
      `scaleOut.instances.${n}.eventsPerCpuSecond`,
      'events/CPU s',
      { name: 'one instance, per CPU second', value: oneCpu?.median },
    );
  }
  add(
    'Domain: customer value updates',
    'domain.valueUpdatesPerSecond',
    'ops/s',
    { name: 'target', value: 1e6 },
    {
      text: '>= 1 000 000',
      ok: (s) => s.median >= 1e6,
    },
  );
  add(
    'Domain: decisions',
    'domain.decisionsPerSecond',
    'ops/s',
    { name: 'target', value: 3e5 },
    {
      text: '>= 300 000',
      ok: (s) => s.median >= 3e5,
    },
  );
  const json = get(results, 'serde.json.roundTripsPerSecond');
  const vsJson = { name: 'JSON', value: json?.median };
  add(
    'Serde: contract serde (validation + avsc via registry client)',
    'serde.contractSerde.roundTripsPerSecond',
    'round trips/s',
    vsJson,
  );
  add('Serde: registry client (avsc) alone', 'serde.registryClient.roundTripsPerSecond', 'round trips/s', vsJson);
  add('Serde: JSON.stringify + JSON.parse', 'serde.json.roundTripsPerSecond', 'round trips/s', vsJson);
  const customers = (results.state as { customers?: number } | undefined)?.customers;
  const restoreTarget = customers ? (10 * customers) / 1e6 : 10;
  add(
    `State restore, ${customers ?? '?'} customers`,
    'state.restoreSeconds',
    's',
    { name: 'target', value: restoreTarget },
    { text: `<= ${round(restoreTarget, 1)} s`, ok: (s) => s.median <= restoreTarget },
  );
  add(
    "Heap per customer kept (the engine's whole state, restored)",
    'state.heapBytesPerCustomer',
    'bytes',
    { name: 'target', value: 600 },
    {
      text: '<= 600',
      ok: (s) => s.median <= 600,
    },
  );
  return rows;
}

const fmt = (n: number) => (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(n));

export function markdownTable(rows: readonly Row[]): string {
  const lines = ['| figure | median (min - max) | ratio to reference | target | met |', '|---|---|---|---|---|'];
  for (const r of rows) {
    if (r.median === null || r.min === null || r.max === null) {
      lines.push(`| ${r.figure} | not measured (${r.missing ?? 'a figure'} did not run) | | ${r.target} | |`);
      continue;
    }
    lines.push(
      `| ${r.figure} | ${fmt(r.median)} ${r.unit} (${fmt(r.min)} - ${fmt(r.max)}) | ${r.ratio === null ? '' : `${r.ratio} (${r.reference})`} | ${r.target} | ${r.met === null ? '' : r.met ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}
