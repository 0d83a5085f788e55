/**
 * The engine's state in its changelog: each value is a two-byte header, the magic byte
 * 0xE5 and the version of the Avro schema it was written with, then the state in Avro
 * binary. The schemas are JSON files, one per version, `services/engine/state/
 * engine-state.v<n>.avsc`; every version ever written stays there, and the highest is
 * the one the engine writes and reads into.
 *
 * A state written with an older version is read through Avro schema resolution from its
 * writer schema to the current one. So these changes need no rebuild: write the new
 * schema as the next version file, raise ENGINE_STATE_VERSION to it, and adapt
 * `stateOf` and `wireOf` below:
 * - a new field with a default (a new part, a new optional fact: old states read the default);
 * - a field removed (old states' values of it are skipped);
 * - a type widened: int to long, long to double;
 * - a field made optional (T to ["null", T]), a new branch in a union, a new enum symbol
 *   appended (an old state never holds it);
 * - a record renamed with its old name in `aliases`.
 *
 * These need a rebuild, that is a new `stateVersion` on the engine's topology (a new
 * consumer group and changelog, the state rebuilt from the inputs):
 * - a change of what a field means, even if its Avro type stays (units, an id's hash, how
 *   invoice marks are packed, which events a list remembers): resolution would read the
 *   old numbers as if they meant the new thing;
 * - a type narrowed (double to long, long to int), a field renamed without an alias, a
 *   new field without a default, an enum symbol removed: resolution refuses the old state
 *   (decode throws CHURN_STATE_UNREADABLE, naming the version) rather than guessing.
 *
 * Decoding gives exactly what the processors built: plain objects with their keys in the
 * processors' order, undefined for an absent part or signal state (null where the types
 * say null), the CustomerValue snapshot the parts share as one object (it is written
 * once), the customer's id as one string, and short repeated strings (currency, owners,
 * cohorts, arms) shared between states. One thing Avro cannot carry: a long field
 * holding -0 (a remaining lifetime value rounded from just below zero) reads back as 0,
 * which no output can tell apart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { CustomerValue } from '@churn/contracts';
import { ChurnError } from '@churn/contracts';
import {
  type CancellationState,
  type CustomerLearning,
  type CustomerValueState,
  type FollowUpState,
  type InvoiceSignalState,
  NEW_CUSTOMER_LEARNING,
  type OpenDialogue,
  type OpenFollowUp,
  type OpenRetention,
  type ProfileFacts,
  type SurveyRoutingState,
} from '@churn/domain';
import type { StateCodec } from '@churn/runtime';
import type { Signals } from '@churn/service-signals';
import avro from 'avsc';
import type { EngineState } from './topology.ts';

/** First byte of every engine state: not `{`, so that a JSON state is told apart at once. */
export const STATE_MAGIC = 0xe5;
const HEADER_BYTES = 2;

/** Where the schema versions live, one file each. */
export const STATE_SCHEMA_DIR = new URL('../state/', import.meta.url);
const FILE = /^engine-state\.v(\d+)\.avsc$/;

/** Every engine state schema in the repository, by version. */
export function engineStateSchemas(): ReadonlyMap<number, avro.Schema> {
  const schemas = new Map<number, avro.Schema>();
  for (const name of readdirSync(STATE_SCHEMA_DIR)) {
    const match = FILE.exec(name);
    if (match === null) continue;
    const version = Number(match[1]);
    schemas.set(version, JSON.parse(readFileSync(new URL(name, STATE_SCHEMA_DIR), 'utf8')) as avro.Schema);
  }
  return schemas;
}

// ------------------------------------------------------------------ wire form

interface WireSurvey {
  readonly value: number | null;
  readonly routed: readonly number[];
}
interface WireInvoice {
  readonly value: number | null;
  readonly signalled: readonly number[];
}
/** What the schema holds: the parts as they are, except the snapshots, written once and named by index. */
interface WireState {
  readonly snapshots: readonly CustomerValue[];
  readonly value: CustomerValueState | null;
  readonly decisions: {
    readonly value: number | null;
    readonly decided: readonly string[];
    readonly learning: CustomerLearning | null;
  } | null;
  readonly signals: { readonly survey: WireSurvey | null; readonly invoice: WireInvoice | null } | null;
  readonly followUps: {
    readonly value: number | null;
    readonly since: number | null;
    readonly lastCompletedAt: number | null;
    readonly open: OpenFollowUp | null;
    readonly dialogue: OpenDialogue | null;
  } | null;
}

/** The wire form of a state: each distinct snapshot once (by identity: the processors share one). */
function wireOf(state: EngineState): WireState {
  const snapshots: CustomerValue[] = [];
  const ref = (value: CustomerValue | null): number | null => {
    if (value === null) return null;
    const at = snapshots.indexOf(value);
    if (at >= 0) return at;
    snapshots.push(value);
    return snapshots.length - 1;
  };
  const { value, decisions, signals, followUps } = state;
  return {
    snapshots,
    value: value ?? null,
    decisions:
      decisions === undefined
        ? null
        : { value: ref(decisions.value), decided: decisions.decided, learning: decisions.learning ?? null },
    signals:
      signals === undefined
        ? null
        : {
            survey:
              signals.survey === undefined ? null : { value: ref(signals.survey.value), routed: signals.survey.routed },
            invoice:
              signals.invoice === undefined
                ? null
                : { value: ref(signals.invoice.value), signalled: signals.invoice.signalled },
          },
    followUps:
      followUps === undefined
        ? null
        : {
            value: ref(followUps.value),
            since: followUps.since,
            lastCompletedAt: followUps.lastCompletedAt,
            open: followUps.open,
            dialogue: followUps.dialogue,
          },
  };
}

/** Short strings that repeat across customers (currencies, owners, cohorts, arms), one copy each. */
const shared = new Map<string, string>();
const SHARED_MAX = 10_000;

function share(s: string): string;
function share(s: string | null): string | null;
function share(s: string | null): string | null {
  if (s === null) return null;
  const known = shared.get(s);
  if (known !== undefined) return known;
  if (shared.size < SHARED_MAX) shared.set(s, s);
  return s;
}

/**
 * A copy of a list of numbers made here, where arrays only ever hold numbers: 8 bytes an
 * element. The decoder makes every Avro array at one place, arrays of strings and records
 * included, so V8 starts them all as arrays of any value, where a number beyond 31 bits
 * (a time, a 53-bit hash) takes a boxed number of its own, 24 bytes.
 */
function numbers(list: readonly number[]): number[] {
  const length = list.length;
  const copy = new Array<number>(length);
  for (let i = 0; i < length; i++) copy[i] = list[i]!;
  return copy;
}

/**
 * The state the processors would hold: plain objects, keys in the order the processors
 * write them (so decoded states share their hidden classes), nothing the wire form adds.
 */
function stateOf(wire: WireState): EngineState {
  const v = wire.value;
  const customerId = v?.customerId ?? wire.snapshots[0]?.customerId ?? '';
  const id = (s: string) => (s === customerId ? customerId : s);
  const snapshots = wire.snapshots.map(
    (s): CustomerValue => ({
      customerId: id(s.customerId),
      asOf: s.asOf,
      currency: share(s.currency),
      revenue12m: s.revenue12m,
      margin12m: s.margin12m,
      tier: s.tier,
      track: s.track,
      tenureDays: s.tenureDays,
      acquisitionCost: s.acquisitionCost,
      cumulativeMargin: s.cumulativeMargin,
      paybackReached: s.paybackReached,
      remainingLifetimeValue: s.remainingLifetimeValue,
      overdueInvoices: s.overdueInvoices,
      lastNps: s.lastNps,
      unansweredSurveys: s.unansweredSurveys,
      eventId: s.eventId,
      causationId: s.causationId,
      segment: s.segment,
      accountManager: share(s.accountManager),
      executiveSponsor: share(s.executiveSponsor),
      signedUpAt: s.signedUpAt,
    }),
  );
  const snapshot = (at: number | null): CustomerValue | null => {
    if (at === null) return null;
    const s = snapshots[at];
    if (s === undefined) throw new RangeError(`snapshot ${at} of ${snapshots.length}`);
    return s;
  };

  let value: CustomerValueState | undefined;
  if (v !== null) {
    const p = v.profile;
    const profile: ProfileFacts | null =
      p === null
        ? null
        : {
            segment: p.segment,
            signedUpAt: p.signedUpAt,
            acquisitionCost: p.acquisitionCost,
            potential: p.potential,
            accountManager: share(p.accountManager),
            executiveSponsor: share(p.executiveSponsor),
            at: p.at,
          };
    value = {
      customerId,
      asOf: v.asOf,
      currency: share(v.currency),
      profile,
      invoiceIds: numbers(v.invoiceIds),
      invoiceMarks: numbers(v.invoiceMarks),
      invoiceAmounts: numbers(v.invoiceAmounts),
      cumulativeMargin: v.cumulativeMargin,
      surveys: numbers(v.surveys),
      lastAnsweredAt: v.lastAnsweredAt,
      lastNps: v.lastNps,
      lastNpsAt: v.lastNpsAt,
      emitted: v.emitted,
    };
  }

  let decisions: CancellationState | undefined;
  const d = wire.decisions;
  if (d !== null) {
    const l = d.learning;
    if (l === null) decisions = { value: snapshot(d.value), decided: d.decided };
    else {
      const learning: CustomerLearning =
        l.atRisk === null && !l.left && l.open.length === 0
          ? NEW_CUSTOMER_LEARNING
          : {
              atRisk: share(l.atRisk),
              left: l.left,
              open: l.open.map(
                (o): OpenRetention => ({
                  taskId: o.taskId,
                  reason: o.reason,
                  offer: o.offer,
                  cohort: share(o.cohort),
                  arm: share(o.arm),
                  openedAt: o.openedAt,
                }),
              ),
            };
      decisions = { value: snapshot(d.value), decided: d.decided, learning };
    }
  }

  let signals: Signals | undefined;
  const s = wire.signals;
  if (s !== null) {
    const survey: SurveyRoutingState | undefined =
      s.survey === null ? undefined : { value: snapshot(s.survey.value), routed: numbers(s.survey.routed) };
    const invoice: InvoiceSignalState | undefined =
      s.invoice === null ? undefined : { value: snapshot(s.invoice.value), signalled: numbers(s.invoice.signalled) };
    signals = { survey, invoice };
  }

  let followUps: FollowUpState | undefined;
  const f = wire.followUps;
  if (f !== null) {
    const o = f.open;
    const g = f.dialogue;
    followUps = {
      value: snapshot(f.value),
      since: f.since,
      lastCompletedAt: f.lastCompletedAt,
      open: o === null ? null : { taskId: o.taskId, dueAt: o.dueAt, deadline: o.deadline, alerted: o.alerted },
      dialogue:
        g === null ? null : { taskId: g.taskId, openedAt: g.openedAt, deadline: g.deadline, alerted: g.alerted },
    };
  }

  // Only the parts there are, as the processors leave them.
  if (value !== undefined && decisions !== undefined && signals !== undefined && followUps !== undefined) {
    return { value, decisions, signals, followUps };
  }
  const state: { -readonly [K in keyof EngineState]: EngineState[K] } = {};
  if (value !== undefined) state.value = value;
  if (decisions !== undefined) state.decisions = decisions;
  if (signals !== undefined) state.signals = signals;
  if (followUps !== undefined) state.followUps = followUps;
  return state;
}

// ------------------------------------------------------------------ the codec

function unreadable(message: string, cause?: unknown): ChurnError {
  return new ChurnError(
    'CHURN_STATE_UNREADABLE',
    `engine state: ${message}; a state this version cannot read needs a rebuild (a new stateVersion)`,
    cause === undefined ? {} : { cause },
  );
}

/** Paths of the fields of `wire` that do not fit `type`, for the error of a state that cannot be written. */
function misfits(type: avro.Type, wire: unknown): string {
  const paths: string[] = [];
  type.isValid(wire, {
    errorHook: (path: string[], value: unknown) => {
      if (paths.length < 5) paths.push(`${path.join('.')} = ${JSON.stringify(value)}`);
    },
  });
  return paths.join('; ');
}

/**
 * A codec that writes with `schemas.get(current)` and reads every version in `schemas`:
 * the current one directly, older ones through a resolver to the current one (made on
 * first use, then kept).
 */
export function engineStateCodecOf(
  schemas: ReadonlyMap<number, avro.Schema>,
  current: number,
): StateCodec<EngineState> {
  if (!Number.isInteger(current) || current < 1 || current > 255) {
    throw new RangeError(`engine state version ${current}: versions are 1 to 255`);
  }
  const currentSchema = schemas.get(current);
  if (currentSchema === undefined) throw new RangeError(`engine state schema v${current} is missing`);
  // A fresh options object for each schema: avsc keeps the names it has seen in it.
  const options = () => ({ omitRecordMethods: true, wrapUnions: 'never' as const });
  const type = avro.Type.forSchema(currentSchema, options());
  const resolvers = new Map<number, avro.Resolver>();
  const resolverOf = (version: number): avro.Resolver | null => {
    const known = resolvers.get(version);
    if (known !== undefined) return known;
    const schema = version < current ? schemas.get(version) : undefined;
    if (schema === undefined) return null;
    let resolver: avro.Resolver;
    try {
      resolver = type.createResolver(avro.Type.forSchema(schema, options()));
    } catch (error) {
      throw unreadable(`version ${version} does not resolve to version ${current}`, error);
    }
    resolvers.set(version, resolver);
    return resolver;
  };
  let scratch = Buffer.allocUnsafe(1024);

  return {
    encode(state) {
      const wire = wireOf(state);
      let end: number;
      try {
        // avsc checks each value as it writes it: a fraction in a long, a null where none may be.
        end = type.encode(wire, scratch, HEADER_BYTES);
        if (end < 0) {
          // Short by -end bytes.
          scratch = Buffer.allocUnsafe(Math.max(scratch.length - end, 2 * scratch.length));
          end = type.encode(wire, scratch, HEADER_BYTES);
        }
      } catch (error) {
        throw new TypeError(`engine state does not fit schema v${current}: ${misfits(type, wire)}`, { cause: error });
      }
      scratch[0] = STATE_MAGIC;
      scratch[1] = current;
      return Buffer.from(scratch.subarray(0, end));
    },
    decode(bytes) {
      if (bytes.length < HEADER_BYTES || bytes[0] !== STATE_MAGIC) {
        const first = bytes.length === 0 ? 'no bytes' : `first byte 0x${bytes[0]!.toString(16).padStart(2, '0')}`;
        throw unreadable(`not an engine state (${first}, expected magic byte 0x${STATE_MAGIC.toString(16)})`);
      }
      const version = bytes[1]!;
      let resolver: avro.Resolver | undefined;
      if (version !== current) {
        const found = resolverOf(version);
        if (found === null) throw unreadable(`unknown schema version ${version} (this engine reads 1 to ${current})`);
        resolver = found;
      }
      let decoded: { value: unknown; offset: number };
      try {
        decoded = type.decode(bytes, HEADER_BYTES, resolver);
      } catch (error) {
        throw unreadable(`version ${version} does not decode: ${(error as Error).message}`, error);
      }
      if (decoded.offset !== bytes.length) {
        throw unreadable(
          decoded.offset < 0
            ? `version ${version} is truncated (${bytes.length} bytes)`
            : `version ${version} has ${bytes.length - decoded.offset} bytes after the state`,
        );
      }
      try {
        return stateOf(decoded.value as WireState);
      } catch (error) {
        throw unreadable(`version ${version} holds an inconsistent state: ${(error as Error).message}`, error);
      }
    },
  };
}

/** The version the engine writes: the highest schema in services/engine/state. */
export const ENGINE_STATE_VERSION = 1;

/** How the engine's state is written to its changelog and read back. */
export const engineStateCodec: StateCodec<EngineState> = engineStateCodecOf(engineStateSchemas(), ENGINE_STATE_VERSION);
