/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by area
 * (garbage collection, the Kafka client, Avro, validation, the domain core, the
 * runner, ...), as shares of the time the process was busy (idle excluded).
 *
 *   node bench/lib/profile.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const AREAS: Array<[string, RegExp]> = [
  ['garbage collection', /^\(garbage collector\)$/],
  ['kafkajs', /node_modules\/kafkajs\//],
  ['@platformatic/kafka', /node_modules\/@platformatic\//],
  ['avsc (Avro)', /node_modules\/avsc\//],
  ['schema registry client', /node_modules\/@kafkajs\/confluent-schema-registry\//],
  ['zod (contract validation)', /node_modules\/zod\//],
  ['contracts (validation, rules)', /packages\/contracts\//],
  ['serde', /packages\/serde\//],
  ['domain core', /packages\/domain\//],
  ['services (topologies)', /services\/[^/]+\/src\//],
  ['runner and runtime', /packages\/runtime\//],
  ['prom-client (metrics)', /node_modules\/prom-client\//],
  ['pino (logs)', /node_modules\/pino/],
  ['benchmark harness', /\/bench\//],
  ['node internals', /^node:|^internal\//],
];

function areaOf(frame: ProfileNode['callFrame']): string {
  if (frame.functionName === '(garbage collector)') return 'garbage collection';
  if (frame.functionName === '(program)') return '(program: V8, compiler)';
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : 'native (JSON, Buffer, builtins)';
  for (const [area, re] of AREAS) if (re.test(frame.url)) return area;
  return 'other';
}

export interface ProfileSummary {
  file: string;
  busySeconds: number;
  idleSeconds: number;
  byArea: Array<{ area: string; share: number }>;
  topFunctions: Array<{ function: string; where: string; share: number }>;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let idle = 0;
  let busy = 0;
  const areas = new Map<string, number>();
  const functions = new Map<string, { where: string; us: number }>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const area = areaOf(frame);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const name = frame.functionName || '(anonymous)';
    const where = frame.url
      ? `${frame.url.replace(/^file:\/\/.*?\/(node_modules|packages|services|bench)\//, '$1/')}:${frame.lineNumber + 1}`
      : '';
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number) => Number(((100 * us) / busy).toFixed(1));
  return {
    file,
    busySeconds: Number((busy / 1e6).toFixed(2)),
    idleSeconds: Number((idle / 1e6).toFixed(2)),
    byArea: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, share: share(us) })),
    topFunctions: [...functions]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([key, { where, us }]) => ({
        function: key.slice(0, key.length - where.length).trim(),
        where,
        share: share(us),
      })),
  };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string' } }, allowPositionals: true });
  for (const file of positionals) {
    const s = summarizeProfile(file, values.top ? Number(values.top) : 25);
    console.log(`${file}: busy ${s.busySeconds} s, idle ${s.idleSeconds} s`);
    console.log('\nby area (% of busy time):');
    for (const a of s.byArea) console.log(`  ${String(a.share).padStart(5)}  ${a.area}`);
    console.log('\ntop functions by self time:');
    for (const f of s.topFunctions) console.log(`  ${String(f.share).padStart(5)}  ${f.function}  ${f.where}`);
  }
}
