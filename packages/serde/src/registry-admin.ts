/**
 * The few Confluent-compatible registry calls that @kafkajs/confluent-schema-registry
 * does not offer: subject compatibility settings, compatibility checks and the latest
 * version of a subject. Plain fetch against `/config` and `/compatibility`.
 */
import { ChurnError } from '@churn/contracts';

export type Compatibility = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FULL' | 'NONE';

export interface RegistryAuth {
  username: string;
  password: string;
}

export interface RegistryAdminOptions {
  /** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:18081/apis/ccompat/v7`. */
  url: string;
  auth?: RegistryAuth | undefined;
  /** @default 10000 */
  timeoutMs?: number;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export class RegistryAdmin {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(options: RegistryAdminOptions) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#headers = { 'content-type': CONTENT_TYPE, accept: CONTENT_TYPE };
    if (options.auth) {
      const token = Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64');
      this.#headers.authorization = `Basic ${token}`;
    }
  }

  async #call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${this.#url}${path}`, {
        method,
        headers: this.#headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new ChurnError(
        'CHURN_REGISTRY_UNAVAILABLE',
        `schema registry at ${this.#url} did not answer ${method} ${path}`,
        {
          cause,
        },
      );
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    if (res.status >= 500) {
      throw new ChurnError(
        'CHURN_REGISTRY_UNAVAILABLE',
        `schema registry answered ${res.status} to ${method} ${path}: ${text}`,
      );
    }
    if (res.status === 401 || res.status === 403) {
      throw new ChurnError(
        'CHURN_CONFIG_INVALID',
        `schema registry refused the credentials (${res.status}) for ${method} ${path}`,
      );
    }
    return { status: res.status, json };
  }

  /**
   * Sets a subject's compatibility level. Apicurio answers NONE for a subject without
   * its own level where Confluent answers 404, so every subject gets one explicitly.
   */
  async setCompatibility(subject: string, level: Compatibility): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { status, json } = await this.#call('PUT', `/config/${encodeURIComponent(subject)}`, {
        compatibility: level,
      });
      if (status === 200) return;
      // Apicurio: two services setting a new subject's level at once collide ("A rule named
      // 'COMPATIBILITY' already exists"); the level that won may be the one wanted.
      if (status === 409 && attempt < 5) {
        if ((await this.getCompatibility(subject)) === level) return;
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
        continue;
      }
      throw new ChurnError(
        'CHURN_CONFIG_INVALID',
        `could not set ${level} on ${subject}: ${status} ${JSON.stringify(json)}`,
      );
    }
  }

  async getCompatibility(subject: string): Promise<Compatibility | null> {
    const { status, json } = await this.#call('GET', `/config/${encodeURIComponent(subject)}`);
    if (status === 404) return null;
    const level = (json as { compatibilityLevel?: Compatibility; compatibility?: Compatibility } | null) ?? {};
    return level.compatibilityLevel ?? level.compatibility ?? null;
  }

  /** The latest registered schema of a subject, or null when the subject does not exist. */
  async latestSchema(subject: string): Promise<{ id: number; version: number; schema: string } | null> {
    const { status, json } = await this.#call('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (status === 404) return null;
    if (status !== 200) throw new ChurnError('CHURN_REGISTRY_UNAVAILABLE', `latest version of ${subject}: ${status}`);
    return json as { id: number; version: number; schema: string };
  }

  /**
   * Asks the registry whether `schema` may become the next version of `subject` under
   * the subject's compatibility level. A subject that does not exist yet accepts anything.
   */
  async isCompatible(subject: string, schema: object): Promise<{ compatible: boolean; messages: string[] }> {
    const { status, json } = await this.#call(
      'POST',
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`,
      {
        schema: JSON.stringify(schema),
        schemaType: 'AVRO',
      },
    );
    if (status === 404) return { compatible: true, messages: [] };
    if (status !== 200) {
      return { compatible: false, messages: [`registry answered ${status}: ${JSON.stringify(json)}`] };
    }
    const body = json as { is_compatible?: boolean; messages?: string[] };
    return { compatible: body.is_compatible === true, messages: body.messages ?? [] };
  }

  /** Registers `schema` under `subject` (a no-op returning the same id when it is already there). */
  async register(subject: string, schema: object): Promise<number> {
    const { status, json } = await this.#call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: JSON.stringify(schema),
      schemaType: 'AVRO',
    });
    if (status === 409)
      throw new ChurnError(
        'CHURN_SCHEMA_INCOMPATIBLE',
        `the registry refused the schema for ${subject} as incompatible: ${JSON.stringify(json)}`,
      );
    if (status !== 200)
      throw new ChurnError('CHURN_CONFIG_INVALID', `could not register ${subject}: ${status} ${JSON.stringify(json)}`);
    return (json as { id: number }).id;
  }

  /** Deletes a subject (soft, then hard). For tests that clean up after themselves. */
  async deleteSubject(subject: string): Promise<void> {
    await this.#call('DELETE', `/subjects/${encodeURIComponent(subject)}`);
    await this.#call('DELETE', `/subjects/${encodeURIComponent(subject)}?permanent=true`);
  }
}
