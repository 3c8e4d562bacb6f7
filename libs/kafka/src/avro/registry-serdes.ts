/**
 * Registry mode (DESIGN.md decision 3): with ORDERSTREAM_SCHEMA_REGISTRY_URL set, services write the Confluent wire
 * format with ids from a schema registry, and every reader decodes both encodings by the first byte.
 *
 * Rules, in the order `connectSchemaRegistry` applies them:
 *
 * 1. Subjects follow the TopicRecordNameStrategy: `<topic>-<record full name>`, because orders.canonical.v1 carries
 *    two record types (CanonicalOrder and SnapshotMarker). So, with no topic prefix:
 *    `orders.canonical.v1-orderstream.v1.CanonicalOrder`, `orders.canonical.v1-orderstream.v1.SnapshotMarker`,
 *    `orders.state.v1-orderstream.v1.OrderState`.
 * 2. The registry must answer within `waitMs` (one warn line per failed attempt); else SCHEMA_REGISTRY_UNAVAILABLE
 *    (exit 72). There is never a fallback to single-object encoding.
 * 3. `register` mode (default): each subject's compatibility level is set (FULL_TRANSITIVE unless configured), then
 *    the schema is registered; registering an identical schema again returns its existing id. A refusal
 *    (409 incompatible) is SCHEMA_REFUSED (exit 73), with the registry's reason and our own field-by-field account of
 *    which rule each change broke against which version.
 *    `lookup` mode (locked-down registries): the schema must already be registered under the subject; nothing is
 *    written to the registry. `read` (readers such as CLI commands): nothing is registered or looked up.
 * 4. Every version of the three subjects is fetched once, so records of every registered version decode without a
 *    request; ids met later are fetched per batch (`prefetch`).
 * 5. The process-wide `orderSerdes()` also learns the registry, so every reader in the process decodes both encodings.
 */
import type { Type, types as avroTypes } from 'avsc';
import { AppError, errorMessage, silentLogger, sleep, type Logger, type Secret } from '@orderstream/kit';
import { readSchema } from '@orderstream/schemas';
import { createAvroType, typeLabel } from './avro-type.js';
import type { AvroSchemaInput } from './fingerprint.js';
import { createOrderSerdes, orderSerdes, type OrderSerdes } from './order-serdes.js';
import {
  createSchemaRegistryClient,
  type CompatibilityLevel,
  type SchemaRegistryClient,
} from './registry-client.js';

export type SchemaRegistryMode = 'register' | 'lookup' | 'read';

export interface OrderSubjects {
  canonical: string;
  marker: string;
  state: string;
}

/** The registry subjects of orderstream's three records (TopicRecordNameStrategy: `<topic>-<record full name>`). */
export function orderSubjects(topics: { canonical: string; state: string }): OrderSubjects {
  return {
    canonical: `${topics.canonical}-orderstream.v1.CanonicalOrder`,
    marker: `${topics.canonical}-orderstream.v1.SnapshotMarker`,
    state: `${topics.state}-orderstream.v1.OrderState`,
  };
}

export interface ConnectSchemaRegistryOptions {
  client: SchemaRegistryClient;
  topics: { canonical: string; state: string };
  /** Default 'register'. */
  mode?: SchemaRegistryMode;
  /** Set on each subject in 'register' mode. Default FULL_TRANSITIVE. */
  compatibility?: CompatibilityLevel;
  /** How long to keep trying to reach the registry at start. Default 30 s; 0: one attempt. */
  waitMs?: number;
  logger?: Logger;
  /** Reader (and, in register mode, writer) schemas other than the .avsc files: schema evolution tests. */
  schemas?: { canonicalOrder?: AvroSchemaInput; orderState?: AvroSchemaInput; snapshotMarker?: AvroSchemaInput };
  /** Also teach the process-wide `orderSerdes()` this registry. Default true. */
  installShared?: boolean;
}

/** Registers or looks up our schemas and returns a serdes writing (unless mode 'read') the Confluent wire format. */
export async function connectSchemaRegistry(options: ConnectSchemaRegistryOptions): Promise<OrderSerdes> {
  const { client } = options;
  const logger = options.logger ?? silentLogger();
  const mode = options.mode ?? 'register';
  const level = options.compatibility ?? 'FULL_TRANSITIVE';
  const subjects = orderSubjects(options.topics);
  const texts = {
    canonical: schemaText(options.schemas?.canonicalOrder ?? readSchema('canonicalOrder')),
    marker: schemaText(options.schemas?.snapshotMarker ?? readSchema('snapshotMarker')),
    state: schemaText(options.schemas?.orderState ?? readSchema('orderState')),
  };
  const started = Date.now();
  await waitForRegistry(client, subjects.canonical, options.waitMs ?? 30_000, logger);

  let ids: { canonical: number; marker: number; state: number } | undefined;
  if (mode !== 'read') {
    const one = async (key: keyof OrderSubjects): Promise<number> => {
      const subject = subjects[key];
      if (mode === 'lookup') {
        const found = await client.lookup(subject, texts[key]);
        if (found === undefined) {
          throw new AppError(
            'SCHEMA_REFUSED',
            `lookup mode: our ${key} schema is not registered under subject ${subject} at ${client.url}. Register it ` +
              '(ORDERSTREAM_SCHEMA_REGISTRY_MODE=register, or ask the registry\'s owners), or deploy the schema version it has',
            { details: { subject } },
          );
        }
        return found.id;
      }
      await client.setCompatibility(subject, level);
      try {
        return await client.register(subject, texts[key]);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'SCHEMA_REFUSED') throw error;
        const why = await explainRefusal(client, subject, texts[key], level).catch((e: unknown) => [`(could not compare versions: ${errorMessage(e)})`]);
        throw new AppError(
          'SCHEMA_REFUSED',
          `the schema registry refused our ${key} schema under subject ${subject} (compatibility ${level}): ` +
            `${String(error.details.registryMessage ?? error.message)}` +
            (why.length > 0 ? `. Incompatible changes: ${why.join('; ')}` : ''),
          { cause: error, details: { subject, compatibility: level, problems: why } },
        );
      }
    };
    ids = { canonical: await one('canonical'), marker: await one('marker'), state: await one('state') };
  }

  const serdes = createOrderSerdes({
    ...(options.schemas ? { schemas: options.schemas } : {}),
    ...(ids ? { confluentIds: ids } : {}),
    schemaRegistry: client,
  });
  const caches = [serdes.schemaIdCache];
  if (options.installShared ?? true) caches.push(orderSerdes().schemaIdCache ?? orderSerdes().useSchemaRegistry(client));
  let known = 0;
  for (const subject of Object.values(subjects)) {
    for (const v of await client.versions(subject)) {
      const { id, schema } = await client.version(subject, v);
      for (const cache of caches) {
        try {
          cache?.add(id, schema);
        } catch (e) {
          logger.warn({ subject, version: v, id, err: errorMessage(e) }, 'a registered schema version cannot be read with ours: its records will be dead letters');
        }
      }
      known++;
    }
  }
  logger.info({ registry: client.url, mode, compatibility: mode === 'register' ? level : undefined, subjects, ids, versions: known, ms: Date.now() - started }, 'schema registry ready');
  return serdes;
}

async function waitForRegistry(client: SchemaRegistryClient, probeSubject: string, waitMs: number, logger: Logger): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await client.versions(probeSubject);
      return;
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'SCHEMA_REGISTRY_UNAVAILABLE' || Date.now() >= deadline) throw error;
      logger.warn({ attempt, err: error.message }, 'schema registry not reachable yet: retrying');
      await sleep(Math.min(1000 * attempt, 5000, Math.max(0, deadline - Date.now())));
    }
  }
}

function schemaText(schema: AvroSchemaInput): string {
  return typeof schema === 'string' ? schema : JSON.stringify(schema);
}

type Direction = 'BACKWARD' | 'FORWARD';

function directions(level: CompatibilityLevel): Direction[] {
  if (level.startsWith('FULL')) return ['BACKWARD', 'FORWARD'];
  if (level.startsWith('BACKWARD')) return ['BACKWARD'];
  if (level.startsWith('FORWARD')) return ['FORWARD'];
  return [];
}

/**
 * Our own account of why `schema` breaks `level` against the subject's registered versions (all of them for a
 * transitive level, else the latest): each line names the field, the change, the rule and the version.
 */
export async function explainRefusal(
  client: SchemaRegistryClient,
  subject: string,
  schema: string,
  level: CompatibilityLevel,
): Promise<string[]> {
  const versions = await client.versions(subject);
  const compared = level.endsWith('TRANSITIVE') ? versions : versions.slice(-1);
  const next = createAvroType(JSON.parse(schema) as Record<string, unknown>);
  const out: string[] = [];
  for (const v of compared) {
    const old = createAvroType(JSON.parse((await client.version(subject, v)).schema) as Record<string, unknown>);
    out.push(...explainIncompatibility(next, old, level, `version ${v}`));
  }
  return [...new Set(out)];
}

/** Field-level reasons why `next` and `old` break `level` (empty when they do not). Pure; tested directly. */
export function explainIncompatibility(next: Type, old: Type, level: CompatibilityLevel, oldLabel = 'the registered version'): string[] {
  const out: string[] = [];
  for (const dir of directions(level)) {
    const [reader, writer] = dir === 'BACKWARD' ? [next, old] : [old, next];
    const rule =
      dir === 'BACKWARD'
        ? `${dir}: the new schema must read records written with ${oldLabel}`
        : `${dir}: readers still on ${oldLabel} must read records written with the new schema`;
    walk(reader, writer, typeLabel(reader), (path, what) => out.push(`${path} ${what} (${rule}; ${level})`));
  }
  return out;
}

function walk(reader: Type, writer: Type, path: string, report: (path: string, what: string) => void): void {
  if (reader.typeName === 'record' && writer.typeName === 'record') {
    const r = reader as avroTypes.RecordType;
    const w = writer as avroTypes.RecordType;
    for (const field of r.fields) {
      const wf = w.fields.find((f) => f.name === field.name || field.aliases.includes(f.name));
      const fieldPath = `${path}.${field.name}`;
      if (wf === undefined) {
        if (field.defaultValue() === undefined) {
          report(fieldPath, `is in the reader's schema without a default and missing from the writer's`);
        }
        continue;
      }
      walk(field.type, wf.type, fieldPath, report);
    }
    return;
  }
  try {
    reader.createResolver(writer);
  } catch (e) {
    report(path, `changed from ${typeLabel(writer)} to ${typeLabel(reader)}, which Avro cannot resolve (${errorMessage(e).slice(0, 160)})`);
  }
}

/** The registry settings of kafkaEnvSchema (libs/kafka/src/config.ts). */
export interface SchemaRegistryEnv {
  ORDERSTREAM_SCHEMA_REGISTRY_URL?: string | undefined;
  ORDERSTREAM_SCHEMA_REGISTRY_MODE: 'register' | 'lookup';
  ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH?: Secret | undefined;
  ORDERSTREAM_SCHEMA_REGISTRY_BEARER_TOKEN?: Secret | undefined;
  ORDERSTREAM_SCHEMA_COMPATIBILITY: CompatibilityLevel;
  ORDERSTREAM_SCHEMA_REGISTRY_WAIT_MS: number;
}

export interface OrderSerdesFromConfigOptions {
  topics: { canonical: string; state: string };
  logger?: Logger;
  /** 'writer' (services: register or look up per ORDERSTREAM_SCHEMA_REGISTRY_MODE) or 'reader' (commands: mode read). */
  role?: 'writer' | 'reader';
}

/**
 * The serdes a service or command uses: without ORDERSTREAM_SCHEMA_REGISTRY_URL, the process-wide single-object
 * `orderSerdes()` (which still names Confluent values it meets); with it, a registry-mode serdes (see
 * {@link connectSchemaRegistry}), failing with SCHEMA_REGISTRY_UNAVAILABLE (exit 72) or SCHEMA_REFUSED (exit 73).
 */
export async function orderSerdesFromConfig(env: SchemaRegistryEnv, options: OrderSerdesFromConfigOptions): Promise<OrderSerdes> {
  const url = env.ORDERSTREAM_SCHEMA_REGISTRY_URL;
  if (url === undefined || url === '') return orderSerdes();
  const client = createSchemaRegistryClient({
    url,
    auth: {
      ...(env.ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH ? { basic: env.ORDERSTREAM_SCHEMA_REGISTRY_BASIC_AUTH } : {}),
      ...(env.ORDERSTREAM_SCHEMA_REGISTRY_BEARER_TOKEN ? { bearer: env.ORDERSTREAM_SCHEMA_REGISTRY_BEARER_TOKEN } : {}),
    },
  });
  return connectSchemaRegistry({
    client,
    topics: options.topics,
    mode: options.role === 'reader' ? 'read' : env.ORDERSTREAM_SCHEMA_REGISTRY_MODE,
    compatibility: env.ORDERSTREAM_SCHEMA_COMPATIBILITY,
    waitMs: env.ORDERSTREAM_SCHEMA_REGISTRY_WAIT_MS,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
