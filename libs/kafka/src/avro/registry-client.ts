/**
 * A small client of the Confluent Schema Registry REST API (v7), which Confluent's registry, Apicurio Registry
 * (`/apis/ccompat/v7`), Karapace and Redpanda all serve. Only what orderstream needs: register, look up, fetch by
 * id, list a subject's versions, set and test compatibility. Node's fetch, no dependency.
 *
 * Errors:
 * - SCHEMA_REGISTRY_UNAVAILABLE (retriable): network error, timeout, 5xx, or an answer that is not the API's JSON;
 * - SCHEMA_REFUSED: 401/403, 409 (incompatible), 422 (invalid schema or level), 404 where a subject or schema must
 *   exist (lookup mode). `details.status` and `details.registryMessage` carry the registry's own words.
 */
import { AppError, type Secret } from '@orderstream/kit';

export interface SchemaRegistryAuth {
  /** HTTP basic auth `user:password` (Confluent's basic.auth.user.info). */
  basic?: Secret;
  /** A bearer token (OAuth / OIDC registries). */
  bearer?: Secret;
}

export interface SchemaRegistryClientOptions {
  /** Base URL of the Confluent-compatible API, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`. No credentials in it. */
  url: string;
  auth?: SchemaRegistryAuth;
  /** Timeout of one request. Default 10 s. */
  timeoutMs?: number;
}

export type CompatibilityLevel =
  | 'NONE'
  | 'BACKWARD'
  | 'BACKWARD_TRANSITIVE'
  | 'FORWARD'
  | 'FORWARD_TRANSITIVE'
  | 'FULL'
  | 'FULL_TRANSITIVE';

export const COMPATIBILITY_LEVELS: readonly CompatibilityLevel[] = [
  'NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE',
];

export interface SchemaRegistryClient {
  readonly url: string;
  /** Registers `schema` (Avro JSON text) under `subject`; the registry's answer for an identical schema is its id. */
  register(subject: string, schema: string): Promise<number>;
  /** The id and version of `schema` under `subject`; undefined when the subject or the schema is not there. */
  lookup(subject: string, schema: string): Promise<{ id: number; version: number } | undefined>;
  /** The schema text of a global id; undefined when the registry does not know it. */
  schemaById(id: number): Promise<string | undefined>;
  /** The versions of `subject` ([] when the subject does not exist). */
  versions(subject: string): Promise<number[]>;
  /** One version of `subject`: its global id and schema text. */
  version(subject: string, version: number): Promise<{ id: number; schema: string }>;
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /** Whether `schema` could be registered under `subject` now; `reason` is the registry's explanation. */
  testCompatibility(subject: string, schema: string): Promise<{ compatible: boolean; reason: string | undefined }>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface Answer {
  status: number;
  body: unknown;
}

export function createSchemaRegistryClient(options: SchemaRegistryClientOptions): SchemaRegistryClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers: Record<string, string> = { Accept: `${CONTENT_TYPE}, application/json`, 'Content-Type': CONTENT_TYPE };
  if (options.auth?.basic) headers.Authorization = `Basic ${Buffer.from(options.auth.basic.reveal()).toString('base64')}`;
  else if (options.auth?.bearer) headers.Authorization = `Bearer ${options.auth.bearer.reveal()}`;

  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    const what = `${method} ${base}${path}`;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      throw new AppError('SCHEMA_REGISTRY_UNAVAILABLE', `the schema registry at ${base} did not answer ${what}: ${why}`, {
        retriable: true,
        cause: error,
        details: { url: base },
      });
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.status >= 500 || (res.ok && parsed === undefined && text !== '')) {
      throw new AppError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `the schema registry at ${base} answered ${what} with HTTP ${res.status}: ${registryMessage(parsed) ?? text.slice(0, 200)}`,
        { retriable: true, details: { url: base, status: res.status } },
      );
    }
    if (res.status === 401 || res.status === 403) {
      throw new AppError(
        'SCHEMA_REFUSED',
        `the schema registry at ${base} refused ${what} with HTTP ${res.status} (check ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH / _BEARER_TOKEN)`,
        { details: { url: base, status: res.status, registryMessage: registryMessage(parsed) } },
      );
    }
    return { status: res.status, body: parsed };
  }

  const refused = (what: string, a: Answer): AppError =>
    new AppError('SCHEMA_REFUSED', `${what}: HTTP ${a.status}: ${registryMessage(a.body) ?? 'no message'}`, {
      details: { url: base, status: a.status, registryMessage: registryMessage(a.body) },
    });
  const s = (subject: string) => encodeURIComponent(subject);

  return {
    url: base,
    async register(subject, schema) {
      const a = await call('POST', `/subjects/${s(subject)}/versions`, { schema, schemaType: 'AVRO' });
      const id = (a.body as { id?: unknown } | undefined)?.id;
      if (a.status === 200 && typeof id === 'number') return id;
      throw refused(`the schema registry refused to register the schema under subject ${subject}`, a);
    },
    async lookup(subject, schema) {
      const a = await call('POST', `/subjects/${s(subject)}`, { schema, schemaType: 'AVRO' });
      if (a.status === 404) return undefined;
      const b = a.body as { id?: unknown; version?: unknown } | undefined;
      if (a.status === 200 && typeof b?.id === 'number') return { id: b.id, version: Number(b.version) };
      throw refused(`the schema registry refused to look up the schema under subject ${subject}`, a);
    },
    async schemaById(id) {
      const a = await call('GET', `/schemas/ids/${id}`);
      if (a.status === 404) return undefined;
      const schema = (a.body as { schema?: unknown } | undefined)?.schema;
      if (a.status === 200 && typeof schema === 'string') return schema;
      throw refused(`the schema registry refused to give schema id ${id}`, a);
    },
    async versions(subject) {
      const a = await call('GET', `/subjects/${s(subject)}/versions`);
      if (a.status === 404) return [];
      if (a.status === 200 && Array.isArray(a.body)) return (a.body as unknown[]).map(Number);
      throw refused(`the schema registry refused to list the versions of subject ${subject}`, a);
    },
    async version(subject, version) {
      const a = await call('GET', `/subjects/${s(subject)}/versions/${version}`);
      const b = a.body as { id?: unknown; schema?: unknown } | undefined;
      if (a.status === 200 && typeof b?.id === 'number' && typeof b.schema === 'string') return { id: b.id, schema: b.schema };
      throw refused(`the schema registry refused to give version ${version} of subject ${subject}`, a);
    },
    async setCompatibility(subject, level) {
      const a = await call('PUT', `/config/${s(subject)}`, { compatibility: level });
      if (a.status !== 200) throw refused(`the schema registry refused compatibility ${level} for subject ${subject}`, a);
    },
    async testCompatibility(subject, schema) {
      const a = await call('POST', `/compatibility/subjects/${s(subject)}/versions/latest?verbose=true`, { schema, schemaType: 'AVRO' });
      if (a.status === 404) return { compatible: true, reason: undefined };
      const b = a.body as { is_compatible?: unknown; reason?: unknown; messages?: unknown } | undefined;
      if (a.status === 200 && typeof b?.is_compatible === 'boolean') {
        const reason = typeof b.reason === 'string' ? b.reason : Array.isArray(b.messages) ? b.messages.join('; ') : undefined;
        return { compatible: b.is_compatible, reason };
      }
      throw refused(`the schema registry refused a compatibility test under subject ${subject}`, a);
    },
  };
}

function registryMessage(body: unknown): string | undefined {
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m : undefined;
}
