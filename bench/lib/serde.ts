/**
 * Serialisation on one core, for the same records (the generated mix): a round trip
 * (encode, then decode) per record, three ways:
 *
 * - contract serde: what the pipeline does, ContractSerde (contract validation, then
 *   Avro through @kafkajs/confluent-schema-registry and avsc, Confluent wire format;
 *   decoding checks the contract's rules again);
 * - registry client: Avro through the registry client alone, no validation;
 * - JSON: JSON.stringify to a Buffer and JSON.parse back.
 *
 * Schema ids are registered and cached before the clock starts (no registry call per record).
 */
import { benchSerde, progress, summarize } from './common.ts';
import { generate } from './workload.ts';

export interface SerdeArgs {
  customers: number;
  months: number;
  warmups: number;
  reps: number;
}

type Way = 'contractSerde' | 'registryClient' | 'json';

export async function run(args: SerdeArgs) {
  const events = generate({ customers: args.customers, months: args.months, seed: 11 });
  const serde = benchSerde();
  const topics = [...new Set(events.map((e) => e.topic))];
  const ids = await serde.registerAll(topics);
  const records = events.map((e) => ({ topic: e.topic as string, id: ids.get(e.topic)!, value: e.value }));
  // Warm the decoder's writer-schema cache too.
  for (const topic of topics) {
    const first = records.find((r) => r.topic === topic)!;
    await serde.decode(topic, await serde.encode(topic, first.value));
  }

  const ways: Record<Way, () => Promise<number>> = {
    contractSerde: async () => {
      let bytes = 0;
      for (const r of records) {
        const encoded = await serde.encode(r.topic, r.value);
        bytes += encoded.length;
        await serde.decode(r.topic, encoded);
      }
      return bytes;
    },
    registryClient: async () => {
      let bytes = 0;
      for (const r of records) {
        const encoded = await serde.registry.encode(r.id, r.value);
        bytes += encoded.length;
        await serde.registry.decode(encoded);
      }
      return bytes;
    },
    json: async () => {
      let bytes = 0;
      for (const r of records) {
        const encoded = Buffer.from(JSON.stringify(r.value));
        bytes += encoded.length;
        JSON.parse(encoded.toString('utf8'));
      }
      return bytes;
    },
  };

  const result: Record<string, unknown> = { records: records.length };
  const rates: Record<Way, number[]> = { contractSerde: [], registryClient: [], json: [] };
  const sizes: Record<Way, number> = { contractSerde: 0, registryClient: 0, json: 0 };
  // Interleaved, so that a neighbour's burst on the shared machine hits every way alike.
  for (let i = 0; i < args.warmups + args.reps; i++) {
    for (const way of Object.keys(ways) as Way[]) {
      const started = performance.now();
      sizes[way] = await ways[way]();
      const perSecond = records.length / ((performance.now() - started) / 1000);
      if (i >= args.warmups) rates[way].push(perSecond);
    }
  }
  for (const way of Object.keys(ways) as Way[]) {
    result[way] = {
      roundTripsPerSecond: summarize(rates[way]),
      meanBytes: Number((sizes[way] / records.length).toFixed(1)),
    };
    progress(
      `serde ${way}: ${Math.round(summarize(rates[way]).median)} round trips/s, ${(sizes[way] / records.length).toFixed(0)} bytes per record`,
    );
  }
  return result;
}
