/**
 * Runs the whole pipeline in-process over a file of input events in the offline form,
 * in file order. The clock follows event time: at every midnight UTC the events cross,
 * the topologies' clock steps run before the first event past it; `until` moves the
 * clock on, midnight by midnight, to its day at the end so that due follow-ups fire. Bad lines are reported with their number and go to a
 * dead-letter file; the run continues.
 */

import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { topicCatalogue } from '@churn/contracts';
import type { Policy } from '@churn/domain';
import { InProcessRunner, type OutputRecord } from '@churn/runtime';
import { formatLine, parseLine, readLines } from './offline.ts';
import { allTopologies, type Shape } from './topologies.ts';

const DAY = 86_400_000;
const contractTopics = new Set<string>(topicCatalogue.map((t) => t.topic));

export interface ReplayOptions {
  policy: Policy;
  /** The deployment shape to run; both give the same outputs. @default 'engine' */
  shape?: Shape;
  /** Advance the clock to this time at the end (epoch ms). */
  until?: number | undefined;
  /**
   * Whether the clock follows event time (clock steps at each midnight UTC the events
   * cross). Off, only `until` moves it. @default true
   */
  clock?: boolean;
  /** Also hand over the records of internal topics (learning, the structural route). @default false */
  internal?: boolean;
  /** Called with (lines read, outputs written) every `progressEvery` lines. */
  onProgress?: (lines: number, outputs: number) => void;
  progressEvery?: number;
}

export interface DeadLine {
  line: number;
  code: string;
  reason: string;
}

export interface ReplayResult {
  lines: number;
  events: number;
  outputs: number;
  deadLetters: DeadLine[];
  byTopic: Record<string, number>;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Replays `inPath`, writing every output event to `onOutput` (in order). */
export async function replay(
  inPath: string,
  options: ReplayOptions,
  onOutput: (record: OutputRecord) => Promise<void> | void,
  onDead: (line: string, dead: DeadLine) => Promise<void> | void,
): Promise<ReplayResult> {
  const runner = new InProcessRunner(allTopologies(options.policy, options.shape));
  const result: ReplayResult = { lines: 0, events: 0, outputs: 0, deadLetters: [], byTopic: {} };
  let clock = Number.NEGATIVE_INFINITY;
  const emit = async (records: OutputRecord[]) => {
    for (const record of records) {
      // Internal topics (the structural route's, the learning stage's) stay inside the run.
      if (!options.internal && !contractTopics.has(record.topic)) continue;
      result.outputs++;
      result.byTopic[record.topic] = (result.byTopic[record.topic] ?? 0) + 1;
      await onOutput(record);
    }
  };
  const every = options.progressEvery ?? 10_000;
  for await (const { line, number } of readLines(inPath)) {
    result.lines++;
    const parsed = parseLine(line);
    if (!parsed.ok) {
      const dead = { line: number, code: parsed.code, reason: parsed.reason };
      result.deadLetters.push(dead);
      await onDead(line, dead);
      continue;
    }
    result.events++;
    const at = (parsed.event.value as { occurredAt?: number; asOf?: number }).occurredAt ?? 0;
    if (options.clock !== false) {
      // The clock step runs at every midnight the events cross, before the first event
      // past it: the same steps the Kafka runner takes per partition.
      const midnight = Math.floor(at / DAY) * DAY;
      if (clock === Number.NEGATIVE_INFINITY) {
        clock = midnight;
        await emit(runner.startClock(clock));
      }
      while (clock < midnight) {
        clock += DAY;
        await emit(runner.tick(clock));
      }
    }
    await emit(runner.feed(parsed.event));
    for (const refused of runner.takeDeadLetters()) {
      const dead = { line: number, code: refused.error.code, reason: `${refused.service}: ${refused.error.message}` };
      result.deadLetters.push(dead);
      await onDead(line, dead);
    }
    if (options.onProgress && result.lines % every === 0) options.onProgress(result.lines, result.outputs);
  }
  if (options.until !== undefined && clock !== Number.NEGATIVE_INFINITY) {
    const last = Math.floor(options.until / DAY) * DAY;
    while (clock < last) {
      clock += DAY;
      await emit(runner.tick(clock));
    }
  }
  return result;
}

/** `churnctl replay`: writes outputs and dead letters as JSON lines. */
export async function replayToFiles(
  inPath: string,
  outPath: string,
  dlqPath: string,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const out = createWriteStream(outPath);
  const dlq = createWriteStream(dlqPath);
  try {
    return await replay(
      inPath,
      options,
      (record) => write(out, `${formatLine(record)}\n`),
      (line, dead) =>
        write(dlq, `${JSON.stringify({ line: dead.line, code: dead.code, reason: dead.reason, original: line })}\n`),
    );
  } finally {
    out.end();
    dlq.end();
    await Promise.all([once(out, 'finish'), once(dlq, 'finish')]);
  }
}
