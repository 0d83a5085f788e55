/**
 * Every failure the pipeline's infrastructure can raise, as a closed set of codes on
 * one error class. `retriable` says whether trying again can help: a broker that is
 * not reachable now may be later; a record that breaks its contract never will be.
 */
export type ChurnErrorCode =
  /** A record breaks its contract: a missing field, a wrong type or enum symbol, a value out of range. */
  | 'CHURN_CONTRACT_VIOLATION'
  /** Bytes that are not in the Confluent wire format (too short, magic byte not 0). */
  | 'CHURN_WIRE_FORMAT'
  /** Avro bytes that do not decode with the schema their id names. */
  | 'CHURN_AVRO_DECODE'
  /** The schema id in a record is not known to the registry. */
  | 'CHURN_SCHEMA_UNKNOWN'
  /** The schema id belongs to a schema of another record than the topic carries. */
  | 'CHURN_SCHEMA_MISMATCH'
  /** A schema change is not BACKWARD compatible with what the registry holds. */
  | 'CHURN_SCHEMA_INCOMPATIBLE'
  /** The schema registry did not answer or answered with a server error. */
  | 'CHURN_REGISTRY_UNAVAILABLE'
  /** A record's key is missing or is not the record's customerId. */
  | 'CHURN_KEY_MISMATCH'
  /** A record is larger than the pipeline accepts. */
  | 'CHURN_RECORD_TOO_LARGE'
  /** A record refers to a customer whose profile the pipeline has not seen. */
  | 'CHURN_UNKNOWN_CUSTOMER'
  /** Configuration given at start-up is invalid. */
  | 'CHURN_CONFIG_INVALID'
  /** A topology's input topics, or its changelog, do not have the same partition count. */
  | 'CHURN_TOPICS_NOT_COPARTITIONED'
  /** A state in a changelog that this version cannot read (another codec, an unknown schema version, bad bytes). */
  | 'CHURN_STATE_UNREADABLE';

const RETRIABLE: ReadonlySet<ChurnErrorCode> = new Set(['CHURN_REGISTRY_UNAVAILABLE']);

export interface ChurnErrorOptions {
  cause?: unknown;
  /** Overrides the code's default retriability. */
  retriable?: boolean;
}

export class ChurnError extends Error {
  readonly code: ChurnErrorCode;
  readonly retriable: boolean;

  constructor(code: ChurnErrorCode, message: string, options: ChurnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChurnError';
    this.code = code;
    this.retriable = options.retriable ?? RETRIABLE.has(code);
  }
}

/** One problem with one field of a record. `path` is dotted, e.g. `value.tier` or `offersWeighed.0.offer`. */
export interface ContractIssue {
  path: string;
  message: string;
}

/** A record that breaks its contract; the message names every bad field. */
export class ContractViolation extends ChurnError {
  readonly record: string;
  readonly issues: readonly ContractIssue[];

  constructor(record: string, issues: readonly ContractIssue[]) {
    super(
      'CHURN_CONTRACT_VIOLATION',
      `${record} breaks its contract: ${issues.map((i) => `${i.path || '(record)'}: ${i.message}`).join('; ')}`,
    );
    this.name = 'ContractViolation';
    this.record = record;
    this.issues = issues;
  }
}
