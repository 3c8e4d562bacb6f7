/**
 * The Confluent wire format, which every schema-registry-aware Avro serde reads and writes:
 *
 *   00 | 4-byte big-endian schema id (global, assigned by the registry) | Avro binary body
 *
 * Writing needs only the id of our own schema (obtained once at start). Reading needs the writer schema of each id
 * met: {@link SchemaIdCache} holds them, fetched from the registry, and resolves each to the reader type with the
 * same full name (avsc `createResolver`), so records of older or newer compatible schema versions read as ours.
 *
 * Decoding is synchronous (the services' per-batch logic does no I/O): an id not in the cache fails with
 * AVRO_UNKNOWN_SCHEMA_ID (retriable) and starts fetching it. Readers call {@link SchemaIdCache.prefetch} with a
 * batch's values before decoding it, so in practice every id is known by then.
 */
import type { Type } from 'avsc';
import { AppError, errorMessage } from '@orderstream/kit';
import { createAvroType, typeLabel } from './avro-type.js';

export const CONFLUENT_MAGIC = 0x00;
/** Magic byte + 4-byte schema id. */
export const CONFLUENT_HEADER_LENGTH = 5;

/** True when `buf` starts with the Confluent magic byte and is long enough to hold a schema id. */
export function isConfluentMessage(buf: Uint8Array): boolean {
  return buf.length >= CONFLUENT_HEADER_LENGTH && buf[0] === CONFLUENT_MAGIC;
}

/** The schema id of a Confluent wire-format value. Throws AVRO_BAD_HEADER if `buf` is not one. */
export function readConfluentSchemaId(buf: Buffer): number {
  if (!isConfluentMessage(buf)) {
    throw new AppError('AVRO_BAD_HEADER', `not a Confluent wire-format value: ${buf.length} bytes starting ${buf.subarray(0, 5).toString('hex')}`, {
      details: { reason: 'bad-magic', length: buf.length },
    });
  }
  return buf.readUInt32BE(1);
}

/** Writes one type with one schema id: `00 | id | body`, through a reusable scratch buffer. */
export class ConfluentWriter<T> {
  private scratch = Buffer.alloc(2048);
  constructor(
    readonly type: Type,
    readonly schemaId: number,
    private readonly onError: (value: unknown, cause: unknown) => Error,
  ) {
    this.scratch[0] = CONFLUENT_MAGIC;
    this.scratch.writeUInt32BE(schemaId, 1);
  }

  encode(value: T): Buffer {
    let end: number;
    try {
      end = this.type.encode(value, this.scratch, CONFLUENT_HEADER_LENGTH);
      while (end < 0) {
        const grown = Buffer.alloc(Math.max(this.scratch.length * 2, this.scratch.length - end + 256));
        this.scratch.copy(grown, 0, 0, CONFLUENT_HEADER_LENGTH);
        this.scratch = grown;
        end = this.type.encode(value, this.scratch, CONFLUENT_HEADER_LENGTH);
      }
    } catch (e) {
      throw this.onError(value, e);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    return out;
  }
}

/** Where writer schemas come from: the registry client's `schemaById`. */
export interface SchemaIdSource {
  schemaById(id: number): Promise<string | undefined>;
}

interface IdEntry {
  writer: Type;
  reader: Type;
  resolver: ReturnType<Type['createResolver']> | undefined;
}

export interface DecodedById {
  type: Type;
  value: unknown;
  schemaId: number;
}

/** Writer schemas by registry id, each resolved to one of the reader types (by full name or alias). */
export class SchemaIdCache {
  private readonly entries = new Map<number, IdEntry>();
  private readonly failures = new Map<number, string>();
  private readonly pending = new Map<number, Promise<void>>();

  constructor(
    readonly readers: readonly Type[],
    private readonly source: SchemaIdSource,
  ) {}

  /** Ids known, for tests and logs. */
  ids(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  has(id: number): boolean {
    return this.entries.has(id);
  }

  /**
   * Adds the writer schema of `id`. Throws SCHEMA_REFUSED when no reader type has its name or avsc cannot resolve
   * it to the reader (an incompatible schema under our record's name).
   */
  add(id: number, schemaText: string): void {
    if (this.entries.has(id)) return;
    let writer: Type;
    try {
      writer = createAvroType(JSON.parse(schemaText) as Record<string, unknown>);
    } catch (e) {
      throw new AppError('SCHEMA_REFUSED', `schema id ${id} from the registry does not parse as Avro: ${errorMessage(e)}`, { cause: e });
    }
    const reader = this.readers.find(
      (t) => t.name !== undefined && (t.name === writer.name || (t.aliases ?? []).includes(writer.name ?? '')),
    );
    if (reader === undefined) {
      throw new AppError(
        'SCHEMA_REFUSED',
        `schema id ${id} is ${typeLabel(writer)}, not one of ${this.readers.map(typeLabel).join(', ')}`,
        { details: { schemaId: id } },
      );
    }
    let resolver: IdEntry['resolver'];
    if (!sameCanonical(reader, writer)) {
      try {
        resolver = reader.createResolver(writer);
      } catch (e) {
        throw new AppError(
          'SCHEMA_REFUSED',
          `schema id ${id} (${typeLabel(writer)}) cannot be read as this reader's ${typeLabel(reader)}: ${errorMessage(e)}`,
          { cause: e, details: { schemaId: id } },
        );
      }
    }
    this.entries.set(id, { writer, reader, resolver });
  }

  /** Fetches every id in `values` (Confluent values only) that is not known yet. Errors are kept for decode's message. */
  async prefetch(values: Iterable<Buffer | null | undefined>): Promise<void> {
    const wanted = new Set<number>();
    for (const v of values) {
      if (v && isConfluentMessage(v)) {
        const id = v.readUInt32BE(1);
        if (!this.entries.has(id)) wanted.add(id);
      }
    }
    await Promise.all([...wanted].map((id) => this.fetch(id)));
  }

  private fetch(id: number): Promise<void> {
    let p = this.pending.get(id);
    if (p === undefined) {
      p = (async () => {
        try {
          const text = await this.source.schemaById(id);
          if (text === undefined) this.failures.set(id, 'the registry does not know this id');
          else {
            this.add(id, text);
            this.failures.delete(id);
          }
        } catch (e) {
          this.failures.set(id, errorMessage(e));
        } finally {
          this.pending.delete(id);
        }
      })();
      this.pending.set(id, p);
    }
    return p;
  }

  /** Decodes a Confluent value whose id is known; unknown: AVRO_UNKNOWN_SCHEMA_ID (and the id is fetched meanwhile). */
  decode(buf: Buffer): DecodedById {
    const schemaId = readConfluentSchemaId(buf);
    const entry = this.entries.get(schemaId);
    if (entry === undefined) {
      const failure = this.failures.get(schemaId);
      void this.fetch(schemaId);
      throw new AppError(
        'AVRO_UNKNOWN_SCHEMA_ID',
        `Confluent wire-format value with schema id ${schemaId}: ` +
          (failure ? `its schema could not be fetched (${failure})` : 'its schema was not fetched from the registry yet'),
        { retriable: true, details: { schemaId } },
      );
    }
    let result: { value: unknown; offset: number };
    try {
      result = entry.reader.decode(buf, CONFLUENT_HEADER_LENGTH, entry.resolver);
    } catch (e) {
      throw bodyFailed(schemaId, entry, errorMessage(e), e);
    }
    if (result.offset !== buf.length) {
      throw bodyFailed(schemaId, entry, result.offset < 0 ? 'truncated body' : `${buf.length - result.offset} trailing bytes after the record`, undefined);
    }
    return { type: entry.reader, value: result.value, schemaId };
  }
}

function bodyFailed(id: number, entry: IdEntry, why: string, cause: unknown): AppError {
  return new AppError('AVRO_BAD_BODY', `Confluent wire-format body does not decode as ${typeLabel(entry.writer)} (schema id ${id}): ${why}`, {
    cause,
    details: { reason: 'bad-body', schemaId: id },
  });
}

function sameCanonical(a: Type, b: Type): boolean {
  return JSON.stringify(a.schema()) === JSON.stringify(b.schema());
}

/** The error of a Confluent value met by a reader that has no schema registry. */
export function noRegistryError(buf: Buffer): AppError {
  const id = buf.length >= CONFLUENT_HEADER_LENGTH ? buf.readUInt32BE(1) : undefined;
  return new AppError(
    'AVRO_UNKNOWN_SCHEMA_ID',
    `Confluent wire-format value (magic 00${id === undefined ? '' : `, schema id ${id}`}) but this reader has no schema ` +
      'registry: set ORDERSTREAM_SCHEMA_REGISTRY_URL to read it (docs/avro.md)',
    { details: { schemaId: id } },
  );
}
