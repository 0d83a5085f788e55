import {
  avroSchemas,
  ChurnError,
  ContractViolation,
  parseRecord,
  type RecordName,
  recordOfTopic,
  subjectOf,
  type TopicName,
  type TopicRecords,
  topicCatalogue,
  validateRecord,
} from '@churn/contracts';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { type Compatibility, RegistryAdmin, type RegistryAuth } from './registry-admin.ts';

/** Magic byte 0 + 4-byte big-endian schema id, then the Avro binary. */
export const WIRE_HEADER_BYTES = 5;

export interface ContractSerdeOptions {
  /** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:18081/apis/ccompat/v7`. */
  url: string;
  auth?: RegistryAuth | undefined;
  /** @default 'churn-pipeline' */
  clientId?: string;
  /** Compatibility level set on every subject this serde registers. @default 'BACKWARD' */
  compatibility?: Compatibility;
}

export interface Decoded<T> {
  value: T;
  /** The id of the schema the record was written with. */
  schemaId: number;
}

interface WriterReader {
  record: RecordName;
  writer: avro.Type;
  resolver: avro.Resolver | undefined;
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: number }).status === 404;
}

/** The registry refused the client's credentials (401) or their rights (403). */
function refusedStatus(err: unknown): number | null {
  const status = typeof err === 'object' && err !== null ? (err as { status?: number }).status : undefined;
  return status === 401 || status === 403 ? status : null;
}

function fullNameOf(record: RecordName): string {
  const schema = avroSchemas[record] as { name: string; namespace?: string };
  return schema.namespace ? `${schema.namespace}.${schema.name}` : schema.name;
}

/**
 * Encodes and decodes contract records in the Confluent wire format, with schemas
 * registered in a Confluent-compatible registry through @kafkajs/confluent-schema-registry.
 *
 * Schema ids are looked up once per topic (by registering the contract's schema, which
 * returns the existing id when the registry already has it) and then cached: no
 * registry call happens per message. Records written with another version of a
 * record's schema are resolved to the contract's schema (Avro schema resolution).
 */
export class ContractSerde {
  readonly registry: SchemaRegistry;
  readonly admin: RegistryAdmin;
  readonly #compatibility: Compatibility;
  readonly #ids = new Map<string, Promise<number>>();
  readonly #readers = new Map<RecordName, avro.Type>();
  readonly #byId = new Map<number, Promise<WriterReader>>();
  readonly #internal = new Map<string, RecordName>();

  constructor(options: ContractSerdeOptions) {
    const auth = options.auth ? { username: options.auth.username, password: options.auth.password } : undefined;
    this.registry = new SchemaRegistry({
      host: options.url,
      clientId: options.clientId ?? 'churn-pipeline',
      ...(auth ? { auth } : {}),
    });
    this.admin = new RegistryAdmin({ url: options.url, auth: options.auth });
    this.#compatibility = options.compatibility ?? 'BACKWARD';
  }

  /**
   * Declares a topic outside the contracts (a repartition topic) that carries a contract
   * record; its subject is `<topic>-value` like any other.
   */
  addInternalTopic(topic: string, record: RecordName): void {
    this.#internal.set(topic, record);
  }

  #recordOf(topic: string): RecordName {
    return this.#internal.get(topic) ?? recordOfTopic(topic);
  }

  #reader(record: RecordName): avro.Type {
    let type = this.#readers.get(record);
    if (!type) {
      type = avro.Type.forSchema(avroSchemas[record] as avro.Schema);
      this.#readers.set(record, type);
    }
    return type;
  }

  /**
   * The schema id under which this build's schema of `topic` is registered. Registers it
   * (and sets the subject's compatibility) on first use; cached afterwards.
   */
  schemaIdOf(topic: string): Promise<number> {
    let id = this.#ids.get(topic);
    if (!id) {
      id = this.#register(topic);
      this.#ids.set(topic, id);
      id.catch(() => this.#ids.delete(topic));
    }
    return id;
  }

  async #register(topic: string): Promise<number> {
    const subject = subjectOf(topic);
    const schema = avroSchemas[this.#recordOf(topic)];
    let registered: { id: number } | null = null;
    for (let attempt = 0; registered === null; attempt++) {
      try {
        registered = await this.registry.register(
          { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
          { subject },
        );
      } catch (cause) {
        const status = (cause as { status?: number }).status;
        const message = (cause as Error).message;
        // Two services registering a new subject at the same moment can collide on the
        // subject's rules; the second one is asked again.
        if (status === 409 && /already exists/i.test(message) && attempt < 5) {
          await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
          continue;
        }
        // The client checks the subject's level before registering; Apicurio answers NONE
        // for a subject whose level another service has not set yet. Set it, ask again.
        if (/Compatibility does not match the configuration/.test(message) && attempt < 5) {
          await this.admin.setCompatibility(subject, this.#compatibility);
          continue;
        }
        // Wrong credentials do not get better by asking again: say so, once.
        if (refusedStatus(cause) !== null) {
          throw new ChurnError(
            'CHURN_CONFIG_INVALID',
            `schema registry refused the credentials (${status}) registering ${subject}`,
            { cause },
          );
        }
        if (status === 409) {
          throw new ChurnError(
            'CHURN_SCHEMA_INCOMPATIBLE',
            `the registry refused this build's schema for ${subject}: ${message}`,
            {
              cause,
            },
          );
        }
        if (cause instanceof ChurnError) throw cause;
        throw new ChurnError('CHURN_REGISTRY_UNAVAILABLE', `could not register ${subject}: ${message}`, { cause });
      }
    }
    if ((await this.admin.getCompatibility(subject)) !== this.#compatibility) {
      await this.admin.setCompatibility(subject, this.#compatibility);
    }
    return registered.id;
  }

  /** Registers the schema of every topic (or of the given ones). Returns the id per topic. */
  async registerAll(topics: readonly string[] = topicCatalogue.map((t) => t.topic)): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for (const topic of topics) ids.set(topic, await this.schemaIdOf(topic));
    return ids;
  }

  /**
   * Validates `value` against the topic's contract and encodes it. Throws a
   * ContractViolation naming the bad fields when it breaks the contract.
   */
  async encode(topic: string, value: unknown): Promise<Buffer> {
    const record = this.#recordOf(topic);
    const valid = parseRecord(record, value);
    const id = await this.schemaIdOf(topic);
    return this.registry.encode(id, valid);
  }

  async #writerReader(id: number, record: RecordName, topic: string): Promise<WriterReader> {
    let entry = this.#byId.get(id);
    if (!entry) {
      entry = this.#loadWriter(id, record);
      this.#byId.set(id, entry);
      entry.catch(() => this.#byId.delete(id));
    }
    const found = await entry;
    if (found.record !== record) {
      throw new ChurnError(
        'CHURN_SCHEMA_MISMATCH',
        `schema id ${id} is a ${String(found.writer.name)} schema, but ${topic} carries ${fullNameOf(record)}`,
      );
    }
    return found;
  }

  async #loadWriter(id: number, record: RecordName): Promise<WriterReader> {
    let writer: avro.Type;
    try {
      writer = (await this.registry.getSchema(id)) as unknown as avro.Type;
    } catch (cause) {
      if (isNotFound(cause))
        throw new ChurnError('CHURN_SCHEMA_UNKNOWN', `schema id ${id} is not known to the registry`, { cause });
      // Retriable: records wait for credentials to be fixed rather than being dead-lettered.
      if (refusedStatus(cause) !== null)
        throw new ChurnError(
          'CHURN_REGISTRY_UNAVAILABLE',
          `schema registry refused the credentials (${refusedStatus(cause)}) fetching schema id ${id}`,
          { cause },
        );
      throw new ChurnError(
        'CHURN_REGISTRY_UNAVAILABLE',
        `could not fetch schema id ${id}: ${(cause as Error).message}`,
        { cause },
      );
    }
    const expected = fullNameOf(record);
    if (writer.name !== expected) {
      // Keep what this id is, so that the next record with it fails without a lookup.
      const other = (Object.keys(avroSchemas) as RecordName[]).find((r) => fullNameOf(r) === writer.name);
      return { record: other ?? ('?' as RecordName), writer, resolver: undefined };
    }
    const reader = this.#reader(record);
    let resolver: avro.Resolver | undefined;
    if (!reader.equals(writer)) {
      try {
        resolver = reader.createResolver(writer);
      } catch (cause) {
        throw new ChurnError(
          'CHURN_SCHEMA_MISMATCH',
          `schema id ${id} cannot be read as ${expected}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      }
    }
    return { record, writer, resolver };
  }

  /**
   * Decodes a record of `topic` from the wire format and checks it against the
   * contract's rules of meaning. Throws ChurnError with code CHURN_WIRE_FORMAT,
   * CHURN_SCHEMA_UNKNOWN, CHURN_SCHEMA_MISMATCH, CHURN_AVRO_DECODE,
   * CHURN_REGISTRY_UNAVAILABLE (retriable) or a ContractViolation.
   */
  async decode<T extends string>(
    topic: T,
    bytes: Buffer | null,
  ): Promise<Decoded<T extends TopicName ? TopicRecords[T] : unknown>> {
    if (!bytes || bytes.length < WIRE_HEADER_BYTES) {
      throw new ChurnError(
        'CHURN_WIRE_FORMAT',
        `record value is ${bytes ? `${bytes.length} bytes` : 'null'}, shorter than the 5-byte wire header`,
      );
    }
    if (bytes[0] !== 0) throw new ChurnError('CHURN_WIRE_FORMAT', `magic byte is ${bytes[0]}, expected 0`);
    const schemaId = bytes.readInt32BE(1);
    const record = this.#recordOf(topic);
    const { resolver } = await this.#writerReader(schemaId, record, topic);
    let decoded: unknown;
    try {
      decoded = this.#reader(record).fromBuffer(bytes.subarray(WIRE_HEADER_BYTES), resolver);
    } catch (cause) {
      throw new ChurnError(
        'CHURN_AVRO_DECODE',
        `Avro payload does not decode as ${record} (schema id ${schemaId}): ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    const checked = validateRecord(record, decoded);
    if (!checked.ok) throw new ContractViolation(record, checked.issues);
    return { value: checked.value as T extends TopicName ? TopicRecords[T] : unknown, schemaId };
  }
}
