import { ChurnError } from '@churn/contracts';
import { aCancellation, aCustomerProfile, anInvoice, aSurveyResult, aTaskOutcome } from '@churn/contracts/testing';
import { loadPolicy, mergeDocuments, type Policy } from '@churn/domain';
import { defaultPolicyDocument, learningPolicy, priorsOnlyPolicy } from '@churn/domain/testing';
import { InProcessRunner, type InputRecord, type OutputRecord, type StateCodec, type Topology } from '@churn/runtime';
import type avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ENGINE_STATE_VERSION,
  engineStateCodec,
  engineStateCodecOf,
  engineStateSchemas,
  STATE_MAGIC,
} from './state-codec.ts';
import { type EngineState, engineTopologies, engineTopology } from './topology.ts';

const DAY = 86_400_000;

/**
 * The population generator of churnctl. The specifier is a variable so that the build
 * does not pull a file of the CLI (which depends on this service) into this package.
 */
const GENERATE = '../../../packages/cli/src/generate.ts';
type Generate = (o: { customers: number; months: number; seed: number }) => InputRecord[];
const { generatePopulation } = (await import(GENERATE)) as { generatePopulation: Generate };

/**
 * The default policy with a grace period and a dialogue deadline that are not whole
 * milliseconds (policy numbers of days are any positive number): deadlines in the state
 * are then fractional epoch milliseconds.
 */
const fractionalPolicy: Policy = loadPolicy(
  mergeDocuments(defaultPolicyDocument, {
    version: 'fractional-deadlines',
    grace: { shareOfCadence: 0.2, minDays: 9.0000001 },
    dialogues: { deadlineDays: 20.0000001 },
  }),
);

/** The default policy with an experiment, so that open retention tasks carry an arm. */
const experimentPolicy: Policy = loadPolicy(
  mergeDocuments(defaultPolicyDocument, {
    version: 'experiment',
    experiment: {
      name: 'state-codec',
      arms: [
        { name: 'control', share: 0.5 },
        {
          name: 'other',
          share: 0.5,
          overrides: { version: 'other', offers: { PRICE: { DOWNGRADE: { probability: 0.8 } } } },
        },
      ],
    },
  }),
);

/** The engine, with every state it leaves written with `codec` and read back before the next step. */
function throughCodec(engine: Topology<EngineState>, codec: StateCodec<EngineState>, seen: EngineState[]) {
  const roundTrip = (state: EngineState | undefined) => {
    if (state === undefined) return undefined;
    seen.push(state);
    return codec.decode(codec.encode(state));
  };
  const tick = engine.tick as NonNullable<typeof engine.tick>;
  return {
    ...engine,
    process: (record, state, now, shared) => {
      const result = engine.process(record, state, now, shared);
      return { state: roundTrip(result.state), emit: result.emit };
    },
    tick: (key, state, at) => {
      const result = tick(key, state, at);
      return { state: roundTrip(result.state), emit: result.emit };
    },
  } satisfies Topology<EngineState>;
}

/** Runs the engine's topologies over `events` as `churnctl replay` does: a clock step at every midnight. */
function run(topologies: readonly Topology[], events: readonly InputRecord[], until: number): string[] {
  const runner = new InProcessRunner(topologies);
  const out: string[] = [];
  const emit = (records: OutputRecord[]) => {
    for (const r of records) out.push(JSON.stringify(r));
  };
  let clock = Number.NEGATIVE_INFINITY;
  const advance = (to: number) => {
    const midnight = Math.floor(to / DAY) * DAY;
    if (clock === Number.NEGATIVE_INFINITY) {
      clock = midnight;
      emit(runner.startClock(clock));
    }
    while (clock < midnight) {
      clock += DAY;
      emit(runner.tick(clock));
    }
  };
  for (const event of events) {
    advance((event.value as { occurredAt: number }).occurredAt);
    emit(runner.feed(event));
    for (const dead of runner.takeDeadLetters()) out.push(`dead ${dead.service} ${dead.error.code} ${dead.record.key}`);
  }
  advance(until);
  return out;
}

/** What a population's history exercises of the state, so that a pass means something. */
function coverage(states: readonly EngineState[]) {
  const count = (f: (s: EngineState) => boolean) => states.filter(f).length;
  return {
    decided: count((s) => (s.decisions?.decided.length ?? 0) > 0),
    openRetention: count((s) => (s.decisions?.learning?.open.length ?? 0) > 0),
    withArm: count((s) => s.decisions?.learning?.open.some((o) => o.arm !== null) === true),
    left: count((s) => s.decisions?.learning?.left === true),
    invoiceSignalOnly: count((s) => s.signals !== undefined && s.signals.survey === undefined),
    openFollowUp: count((s) => s.followUps?.open != null),
    dialogue: count((s) => s.followUps?.dialogue != null),
    fractionalDeadline: count(
      (s) =>
        (s.followUps?.open != null && !Number.isInteger(s.followUps.open.deadline)) ||
        (s.followUps?.dialogue != null && !Number.isInteger(s.followUps.dialogue.deadline)),
    ),
    overdueInvoice: count((s) => s.value?.invoiceMarks.some((m) => (m & 2) !== 0) === true),
    noProfile: count((s) => s.value !== undefined && s.value.profile === null),
  };
}

describe('the engine on decoded states', () => {
  const events = generatePopulation({ customers: 160, months: 14, seed: 23 });
  const last = (events[events.length - 1]!.value as { occurredAt: number }).occurredAt;
  const until = last + 60 * DAY;

  const policies: [string, Policy, (keyof ReturnType<typeof coverage>)[]][] = [
    [
      'the default policy',
      learningPolicy,
      ['decided', 'openRetention', 'left', 'openFollowUp', 'dialogue', 'overdueInvoice'],
    ],
    ['a policy without learning', priorsOnlyPolicy, ['decided', 'openFollowUp']],
    ['fractional deadlines', fractionalPolicy, ['fractionalDeadline', 'dialogue']],
    ['an experiment', experimentPolicy, ['withArm']],
  ];
  for (const [name, policy, exercised] of policies) {
    it(`gives the same outputs, record for record, under ${name}`, () => {
      const [engine, ...rest] = engineTopologies(policy) as [Topology<EngineState>, ...Topology[]];
      const plain = run([engine, ...rest], events, until);
      const seen: EngineState[] = [];
      const decoded = run([throughCodec(engine, engineStateCodec, seen), ...rest] as Topology[], events, until);
      expect(decoded.length).toBe(plain.length);
      const first = decoded.findIndex((line, i) => line !== plain[i]);
      expect(first, `first differing output: ${decoded[first]}\nexpected: ${plain[first]}`).toBe(-1);
      const covered = coverage(seen);
      for (const key of exercised) expect(covered[key], `states with ${key}`).toBeGreaterThan(0);
    });
  }
});

/** -0 as 0 (a long cannot hold -0; no output can tell them apart), everything else as it is. */
function withoutNegativeZero(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)]));
  }
  return value;
}

describe('decode(encode(state))', () => {
  const CUSTOMER = 'cust-0001';
  const START = Date.UTC(2025, 0, 1);
  const at = fc.integer({ min: 0, max: 400 * DAY });
  const invoiceNumber = fc.integer({ min: 0, max: 5 });
  const event = fc.oneof(
    fc
      .record({
        t: at,
        segment: fc.constantFrom('B2B' as const, 'B2C' as const),
        manager: fc.option(fc.constant('am-01')),
      })
      .map(({ t, segment, manager }) => ({
        topic: 'customer.profiles.v1',
        value: aCustomerProfile({
          occurredAt: START + t,
          signedUpAt: START - 200 * DAY,
          segment,
          accountManager: manager,
          executiveSponsor: manager === null ? null : 'exec-1',
        }),
      })),
    fc
      .record({
        n: invoiceNumber,
        status: fc.constantFrom('ISSUED', 'PAID', 'OVERDUE', 'CREDITED', 'WRITTEN_OFF'),
        amount: fc.integer({ min: 1, max: 3_000_000_000 }),
        cost: fc.option(fc.integer({ min: 0, max: 1_000_000_000 })),
        late: fc.integer({ min: 0, max: 60 * DAY }),
      })
      .map(({ n, status, amount, cost, late }) => {
        const issuedAt = START + n * 30 * DAY;
        return {
          topic: 'billing.invoices.v1',
          value: anInvoice({
            invoiceId: `inv-${n}`,
            issuedAt,
            occurredAt: issuedAt + late,
            status: status as 'ISSUED',
            amount,
            costToServe: cost,
          }),
        };
      }),
    fc
      .record({
        t: at,
        n: fc.integer({ min: 0, max: 8 }),
        answered: fc.boolean(),
        score: fc.integer({ min: 0, max: 10 }),
      })
      .map(({ t, n, answered, score }) => ({
        topic: 'customer.surveys.v1',
        value: aSurveyResult({
          occurredAt: START + t,
          surveyId: `srv-${n}`,
          status: answered ? 'ANSWERED' : 'UNANSWERED',
          score: answered ? score : null,
        }),
      })),
    fc
      .record({ t: at, reason: fc.constantFrom('PRICE', 'SERVICE_ISSUE', 'COMPETITOR', 'LIFE_CHANGE') })
      .map(({ t, reason }) => ({
        topic: 'customer.cancellations.v1',
        value: aCancellation({ occurredAt: START + t, reason: reason as 'PRICE', eventId: `canc-${t}` }),
      })),
    fc
      .record({ t: at, outcome: fc.constantFrom('RETAINED', 'LOST', 'NO_CONTACT', 'PAUSED') })
      .map(({ t, outcome }) => ({
        topic: 'contact-center.task-outcomes.v1',
        value: aTaskOutcome({ occurredAt: START + t, outcome: outcome as 'RETAINED' }),
      })),
  );

  it('is the state, over states the processors made', () => {
    const engine = engineTopology(learningPolicy);
    const tick = engine.tick as NonNullable<typeof engine.tick>;
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), (history) => {
        const sorted = [...history].sort(
          (a, b) => (a.value as { occurredAt: number }).occurredAt - (b.value as { occurredAt: number }).occurredAt,
        );
        let state: EngineState | undefined;
        const check = (s: EngineState | undefined) => {
          if (s === undefined) return;
          const back = engineStateCodec.decode(engineStateCodec.encode(s));
          expect(withoutNegativeZero(back)).toStrictEqual(withoutNegativeZero(s));
        };
        for (const e of sorted) {
          const now = (e.value as { occurredAt: number }).occurredAt;
          if (state !== undefined) {
            const midnight = Math.floor(now / DAY) * DAY;
            state = tick(CUSTOMER, state, midnight).state;
            check(state);
          }
          if (state === undefined && e.topic === 'contact-center.task-outcomes.v1') continue;
          try {
            state = engine.process({ topic: e.topic, key: CUSTOMER, value: e.value }, state, now).state;
          } catch (error) {
            if (!(error instanceof ChurnError)) throw error;
          }
          check(state);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('shares one snapshot between the parts, as the processors do', () => {
    const engine = engineTopology(learningPolicy);
    const profile = aCustomerProfile({ customerId: 'cust-0001' });
    const state = engine.process(
      { topic: 'customer.profiles.v1', key: 'cust-0001', value: profile },
      undefined,
      profile.occurredAt,
    ).state as EngineState;
    expect(state.decisions?.value).toBe(state.followUps?.value);
    const back = engineStateCodec.decode(engineStateCodec.encode(state));
    expect(back.decisions?.value).not.toBeNull();
    expect(back.decisions?.value).toBe(back.followUps?.value);
    expect(back.signals?.survey?.value).toBe(back.followUps?.value);
    expect(back.signals?.invoice?.value).toBe(back.followUps?.value);
  });

  it('writes a state of any size', () => {
    const decided = Array.from({ length: 300 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const large: EngineState = { decisions: { value: null, decided } };
    const bytes = engineStateCodec.encode(large);
    expect(bytes.length).toBeGreaterThan(10_000);
    expect(engineStateCodec.decode(bytes)).toStrictEqual(large);
    const small: EngineState = { decisions: { value: null, decided: ['a'] } };
    expect(engineStateCodec.decode(engineStateCodec.encode(small))).toStrictEqual(small);
    expect(engineStateCodec.decode(bytes)).toStrictEqual(large);
  });

  it('refuses a state that does not fit the schema instead of writing it wrong', () => {
    const state: EngineState = {
      followUps: {
        value: null,
        since: 1.5,
        lastCompletedAt: null,
        open: null,
        dialogue: null,
      },
    };
    expect(() => engineStateCodec.encode(state)).toThrow(/followUps\.since = 1\.5/);
  });
});

describe('state versions', () => {
  const schemas = engineStateSchemas();
  const current = schemas.get(ENGINE_STATE_VERSION) as avro.Schema;
  /** A state with every part: a customer with a profile, an invoice, a survey and a decided cancellation. */
  const full = (() => {
    const engine = engineTopology(learningPolicy);
    let state: EngineState | undefined;
    const profile = aCustomerProfile();
    for (const value of [
      profile,
      anInvoice({ status: 'OVERDUE' }),
      aSurveyResult({ score: 3 }),
      aCancellation({ occurredAt: profile.occurredAt + 300 * DAY }),
    ]) {
      const topic =
        'invoiceId' in value
          ? 'billing.invoices.v1'
          : 'surveyId' in value
            ? 'customer.surveys.v1'
            : 'cancellationId' in value
              ? 'customer.cancellations.v1'
              : 'customer.profiles.v1';
      state = engine.process({ topic, key: value.customerId, value }, state, value.occurredAt).state;
    }
    return state as EngineState;
  })();

  /** A copy of a schema, changed by `edit` (on the parsed JSON). */
  const edited = (edit: (schema: { fields: { name: string; type: unknown; default?: unknown }[] }) => void) => {
    const copy = structuredClone(current) as unknown as { fields: { name: string; type: unknown }[] };
    edit(copy);
    return copy as unknown as avro.Schema;
  };
  /** The record named `name` somewhere in a schema. */
  const record = (schema: unknown, name: string): { fields: { name: string; type: unknown; default?: unknown }[] } => {
    const found: unknown[] = [];
    const walk = (t: unknown) => {
      if (Array.isArray(t)) t.forEach(walk);
      else if (t !== null && typeof t === 'object') {
        const o = t as { type?: string; name?: string; fields?: { type: unknown }[]; items?: unknown };
        if (o.type === 'record' && o.name === name) found.push(o);
        for (const f of o.fields ?? []) walk(f.type);
        if (o.items !== undefined) walk(o.items);
      }
    };
    walk(schema);
    if (found.length !== 1) throw new Error(`no record ${name}`);
    return found[0] as { fields: { name: string; type: unknown }[] };
  };

  it('are all in the repository, the current one the highest', () => {
    expect(Math.max(...schemas.keys())).toBe(ENGINE_STATE_VERSION);
    for (let v = 1; v <= ENGINE_STATE_VERSION; v++) expect(schemas.has(v), `engine-state.v${v}.avsc`).toBe(true);
  });

  it('write a header: the magic byte and the version', () => {
    const bytes = engineStateCodec.encode(full);
    expect([bytes[0], bytes[1]]).toEqual([STATE_MAGIC, ENGINE_STATE_VERSION]);
  });

  it('read a state an older schema wrote: a field added since with a default, a field removed since', () => {
    // Version 1 of this story knew nothing of learning, and kept a note that is gone now.
    const older = edited((s) => {
      const decisions = record(s, 'CancellationState');
      decisions.fields = decisions.fields.filter((f) => f.name !== 'learning');
      s.fields.push({ name: 'note', type: ['null', 'string'], default: null });
    });
    const writer = engineStateCodecOf(new Map([[1, older]]), 1);
    const reader = engineStateCodecOf(
      new Map([
        [1, older],
        [2, current],
      ]),
      2,
    );
    const written = writer.encode(full);
    expect(written[1]).toBe(1);
    const { learning: _, ...withoutLearning } = full.decisions as NonNullable<EngineState['decisions']>;
    expect(full.decisions?.learning).toBeDefined();
    expect(reader.decode(written)).toStrictEqual({ ...full, decisions: withoutLearning });
    // The resolver is made once per writer version.
    expect(reader.decode(written)).toStrictEqual(reader.decode(written));
  });

  it('read a state an older schema wrote: types widened, a field made optional, a new union branch, a new enum symbol, a record renamed with an alias', () => {
    const newer = edited((s) => {
      const value = record(s, 'CustomerValueState');
      value.fields.find((f) => f.name === 'invoiceMarks')!.type = { type: 'array', items: 'long' };
      value.fields.find((f) => f.name === 'lastNps')!.type = ['null', 'int', 'string'];
      value.fields.push({ name: 'plan', type: ['null', 'string'], default: null });
      const profile = record(s, 'ProfileFacts') as {
        name?: string;
        aliases?: string[];
        fields: { name: string; type: unknown }[];
      };
      profile.name = 'Profile';
      profile.aliases = ['churn.state.engine.ProfileFacts'];
      profile.fields.find((f) => f.name === 'acquisitionCost')!.type = 'double';
      const snapshot = record(s, 'CustomerValue');
      const currency = snapshot.fields.find((f) => f.name === 'currency')!;
      currency.type = ['null', 'string'];
      currency.default = null;
      (snapshot.fields.find((f) => f.name === 'tier')!.type as { symbols: string[] }).symbols.push('E');
    });
    const reader = engineStateCodecOf(
      new Map([
        [1, current],
        [2, newer],
      ]),
      2,
    );
    expect(full.value?.lastNps).not.toBeNull();
    expect(reader.decode(engineStateCodec.encode(full))).toStrictEqual(full);
  });

  it('refuse bytes that are not an engine state, an unknown version, a truncated state', () => {
    const bytes = engineStateCodec.encode(full);
    const refused = (b: Buffer): ChurnError => {
      try {
        engineStateCodec.decode(b);
      } catch (error) {
        expect(error).toBeInstanceOf(ChurnError);
        return error as ChurnError;
      }
      throw new Error('decoded');
    };
    const json = refused(Buffer.from(JSON.stringify(full)));
    expect(json.code).toBe('CHURN_STATE_UNREADABLE');
    expect(json.message).toMatch(/not an engine state \(first byte 0x7b/);
    expect(json.retriable).toBe(false);
    const unknown = Buffer.from(bytes);
    unknown[1] = ENGINE_STATE_VERSION + 1;
    expect(refused(unknown).message).toMatch(new RegExp(`unknown schema version ${ENGINE_STATE_VERSION + 1}`));
    expect(refused(bytes.subarray(0, bytes.length - 3)).message).toMatch(/truncated/);
    expect(refused(Buffer.concat([bytes, Buffer.from([0])])).message).toMatch(/1 bytes after the state/);
    expect(refused(Buffer.alloc(0)).message).toMatch(/no bytes/);
  });

  it('refuse an older state the current schema cannot resolve, naming its version', () => {
    const changes: [string, 'writer' | 'reader', (s: Parameters<Parameters<typeof edited>[0]>[0]) => void][] = [
      [
        'a type narrowed',
        'writer',
        (s) => {
          record(s, 'CustomerValueState').fields.find((f) => f.name === 'asOf')!.type = 'double';
        },
      ],
      [
        'a field added without a default',
        'reader',
        (s) => {
          record(s, 'CustomerValueState').fields.push({ name: 'plan', type: 'string' });
        },
      ],
      [
        'a field renamed without an alias',
        'reader',
        (s) => {
          record(s, 'CustomerValueState').fields.find((f) => f.name === 'asOf')!.name = 'asAt';
        },
      ],
      [
        'an enum symbol removed',
        'reader',
        (s) => {
          const segment = record(s, 'CustomerValue').fields.find((f) => f.name === 'segment')!;
          (segment.type as [string, { symbols: string[] }])[1].symbols = ['B2C'];
        },
      ],
    ];
    for (const [change, side, edit] of changes) {
      const changed = edited(edit);
      const writerSchema = side === 'writer' ? changed : current;
      const readerSchema = side === 'reader' ? changed : current;
      const writer = engineStateCodecOf(new Map([[1, writerSchema]]), 1);
      const reader = engineStateCodecOf(
        new Map([
          [1, writerSchema],
          [2, readerSchema],
        ]),
        2,
      );
      expect(() => reader.decode(writer.encode(full)), change).toThrow(
        expect.objectContaining({
          code: 'CHURN_STATE_UNREADABLE',
          message: expect.stringMatching(/^engine state: version 1 /),
        }),
      );
    }
  });
});
