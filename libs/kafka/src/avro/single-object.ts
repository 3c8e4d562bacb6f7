/**
 * Avro single-object encoding (Avro specification, "Single object encoding"):
 *
 *   C3 01 | 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema | Avro binary body
 *
 * which Apache Avro's Java `BinaryMessageEncoder`/`BinaryMessageDecoder` write and read with no schema registry.
 *
 * A serde holds reader types (the schemas this process works with) and, for each, any number of older writer
 * schemas. Decoding looks the writer up by the fingerprint in the header and resolves the body to the reader type
 * (avsc `createResolver`); a record written with the reader's own schema is read directly.
 *
 * Per-record cost: encoding writes the body straight after a header that was written once per type into a reusable
 * scratch buffer, then copies the finished message into one exact-size Buffer. Decoding reads the fingerprint as
 * two 32-bit words (no BigInt) and finds the writer in a Map. No JSON, no hashing, no concatenation.
 */
import avro from 'avsc';
import type { Type } from 'avsc';
import { AppError } from '@orderstream/kit';
import { createAvroType, typeLabel } from './avro-type.js';
import {
  canonicalForm,
  crc64Avro,
  fingerprintHex,
  fingerprintToBytes,
  fingerprintToSignedLong,
  type AvroSchemaInput,
} from './fingerprint.js';

/** The two-byte marker of single-object encoding, version 1. */
export const SINGLE_OBJECT_MAGIC: readonly [number, number] = [0xc3, 0x01];
/** Magic + fingerprint. */
export const SINGLE_OBJECT_HEADER_LENGTH = 10;

const INITIAL_SCRATCH = 2048;

/** Encodes and decodes one reader type. Obtain it from {@link SingleObjectSerde.codec}. */
export interface SingleObjectCodec<T> {
  /** The reader (and writer) type. */
  readonly type: Type;
  /** CRC-64-AVRO fingerprint of the type's Parsing Canonical Form (unsigned). */
  readonly fingerprint: bigint;
  /** A copy of the 10 header bytes every message of this type starts with. */
  header(): Buffer;
  /** `C3 01` + fingerprint + body. Throws AppError 'AVRO_ENCODE_FAILED' naming the invalid fields. */
  encode(value: T): Buffer;
  /**
   * Decodes a message written with this type's schema or with one of the older writer schemas registered for it.
   * Throws AppError 'AVRO_BAD_HEADER' (not a single-object message, or a body that does not decode) or
   * 'AVRO_UNKNOWN_FINGERPRINT' (no known writer schema of this type has that fingerprint).
   */
  decode(buf: Buffer): T;
}

export interface DecodedRecord {
  /** The reader type the value was resolved to. */
  type: Type;
  value: unknown;
}

export interface SingleObjectSerde {
  /** The reader types, in the order given. */
  readonly types: readonly Type[];
  /** The typed encoder/decoder of one of {@link types}. The cast to T is the caller's promise. */
  codec<T>(type: Type): SingleObjectCodec<T>;
  /** Encodes `value` with `type` (one of {@link types}). */
  encode(type: Type, value: unknown): Buffer;
  /** Decodes a message of any known writer schema to its reader type. Allocates the result object. */
  decode(buf: Buffer): DecodedRecord;
  /**
   * Registers an older (or otherwise different) writer schema whose records should be read as `reader`
   * (default: the reader type with the same full name, or whose aliases include it). Fails at once if avsc cannot
   * resolve the writer to the reader (e.g. a reader field without default that the writer lacks).
   * Returns the writer's fingerprint. Registering the same schema twice is a no-op.
   */
  addWriterSchema(writer: AvroSchemaInput, reader?: Type): bigint;
  /** Every fingerprint this serde can decode, with the writer and reader it maps to. */
  writers(): Array<{ fingerprint: bigint; writer: Type; reader: Type; resolved: boolean }>;
}

interface WriterEntry {
  readonly lo: number;
  readonly hi: number;
  readonly fingerprint: bigint;
  readonly writer: Type;
  readonly reader: Type;
  /** undefined when writer and reader have the same canonical form: read directly. */
  readonly resolver: ReturnType<Type['createResolver']> | undefined;
  /** Next entry whose low fingerprint word is the same (collisions of the Map key). */
  next: WriterEntry | undefined;
}

function fingerprintWords(fp: bigint): { lo: number; hi: number } {
  return { lo: Number(fp & 0xffffffffn) | 0, hi: Number(fp >> 32n) | 0 };
}

function hex(buf: Uint8Array, from: number, to: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + from, Math.max(0, Math.min(to, buf.length) - from)).toString('hex');
}

function badHeader(message: string, buf: Uint8Array, reason: string): AppError {
  return new AppError('AVRO_BAD_HEADER', message, {
    details: { reason, length: buf.length, head: hex(buf, 0, SINGLE_OBJECT_HEADER_LENGTH) },
  });
}

/** Throws AppError 'AVRO_BAD_HEADER' unless `buf` starts with `C3 01` and has room for a fingerprint. */
function checkHeader(buf: Buffer): void {
  if (buf.length < SINGLE_OBJECT_HEADER_LENGTH) {
    throw badHeader(
      `not an Avro single-object message: ${buf.length} bytes, need at least ${SINGLE_OBJECT_HEADER_LENGTH} ` +
        `(C3 01 + 8-byte fingerprint)`,
      buf,
      'too-short',
    );
  }
  if (buf[0] !== 0xc3 || buf[1] !== 0x01) {
    const hint = buf[0] === 0x00 ? ' (a leading 00 suggests Confluent wire format: magic 0 + 4-byte schema id)' : '';
    throw badHeader(
      `not an Avro single-object message: starts with ${hex(buf, 0, 2)}, expected c301${hint}`,
      buf,
      'bad-magic',
    );
  }
}

/** The writer fingerprint in a single-object message's header. Throws AppError 'AVRO_BAD_HEADER' if none. */
export function readSingleObjectFingerprint(buf: Buffer): bigint {
  checkHeader(buf);
  return buf.readBigUInt64LE(2);
}

/** True when `buf` starts with the single-object marker and is long enough to hold a fingerprint. */
export function isSingleObjectMessage(buf: Uint8Array): boolean {
  return buf.length >= SINGLE_OBJECT_HEADER_LENGTH && buf[0] === 0xc3 && buf[1] === 0x01;
}

function unknownFingerprint(fp: bigint, readers: string): AppError {
  return new AppError(
    'AVRO_UNKNOWN_FINGERPRINT',
    `unknown Avro writer schema fingerprint 0x${fingerprintHex(fp)} (Java long ${fingerprintToSignedLong(fp)}, ` +
      `wire bytes ${fingerprintToBytes(fp).toString('hex')}): not a known writer schema of ${readers}`,
    { details: { fingerprint: fingerprintHex(fp), readers } },
  );
}

function describeValue(v: unknown): string {
  let s: string;
  try {
    s = v === undefined ? 'undefined' : typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v));
  } catch {
    try {
      s = String(v);
    } catch {
      s = Object.prototype.toString.call(v);
    }
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Builds the 'AVRO_ENCODE_FAILED' error, asking avsc which paths of `value` are invalid (failure path only). */
function encodeFailed(type: Type, value: unknown, cause: unknown): AppError {
  const problems: Array<{ path: string; value: string; expected: string }> = [];
  try {
    type.isValid(value, {
      errorHook: (path: string[], v: unknown, t: Type) => {
        problems.push({ path: path.length ? path.join('.') : '(value)', value: describeValue(v), expected: typeLabel(t) });
      },
    });
  } catch {
    // isValid itself should not throw; if it does, the cause below still explains.
  }
  const label = typeLabel(type);
  const what = problems.length
    ? problems.map((p) => `${p.path} = ${p.value} (expected ${p.expected})`).join('; ')
    : cause instanceof Error
      ? cause.message
      : String(cause);
  return new AppError('AVRO_ENCODE_FAILED', `cannot encode ${label}: ${what}`, {
    cause,
    details: { type: label, problems },
  });
}

class Codec<T> implements SingleObjectCodec<T> {
  readonly type: Type;
  readonly fingerprint: bigint;
  private readonly headerBytes: Buffer;
  private scratch: Buffer;
  /** Writer entries whose reader is this type, by low fingerprint word. */
  readonly entries = new Map<number, WriterEntry>();

  constructor(type: Type) {
    this.type = type;
    this.fingerprint = crc64Avro(canonicalForm(type));
    this.headerBytes = Buffer.alloc(SINGLE_OBJECT_HEADER_LENGTH);
    this.headerBytes[0] = 0xc3;
    this.headerBytes[1] = 0x01;
    this.headerBytes.writeBigUInt64LE(this.fingerprint, 2);
    this.scratch = Buffer.alloc(INITIAL_SCRATCH);
    this.headerBytes.copy(this.scratch, 0);
  }

  header(): Buffer {
    return Buffer.from(this.headerBytes);
  }

  encode(value: T): Buffer {
    let end: number;
    try {
      end = this.type.encode(value, this.scratch, SINGLE_OBJECT_HEADER_LENGTH);
      while (end < 0) {
        // avsc returns minus the number of missing bytes: grow, with room to spare, and write again. The scratch
        // buffer keeps its size afterwards, so this happens once per size class, not per record.
        const grown = Buffer.alloc(Math.max(this.scratch.length * 2, this.scratch.length - end + 256));
        this.headerBytes.copy(grown, 0);
        this.scratch = grown;
        end = this.type.encode(value, this.scratch, SINGLE_OBJECT_HEADER_LENGTH);
      }
    } catch (e) {
      throw encodeFailed(this.type, value, e);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    return out;
  }

  decode(buf: Buffer): T {
    checkHeader(buf);
    const lo = buf[2]! | (buf[3]! << 8) | (buf[4]! << 16) | (buf[5]! << 24);
    const hi = buf[6]! | (buf[7]! << 8) | (buf[8]! << 16) | (buf[9]! << 24);
    let entry = this.entries.get(lo);
    while (entry !== undefined && entry.hi !== hi) entry = entry.next;
    if (entry === undefined) throw unknownFingerprint(buf.readBigUInt64LE(2), typeLabel(this.type));
    return readBody(entry, buf) as T;
  }
}

function readBody(entry: WriterEntry, buf: Buffer): unknown {
  let result: { value: unknown; offset: number };
  try {
    result = entry.reader.decode(buf, SINGLE_OBJECT_HEADER_LENGTH, entry.resolver);
  } catch (e) {
    throw bodyFailed(entry, buf, e instanceof Error ? e.message : String(e), e);
  }
  if (result.offset === buf.length) return result.value;
  throw bodyFailed(
    entry,
    buf,
    result.offset < 0 ? 'truncated body' : `${buf.length - result.offset} trailing bytes after the record`,
    undefined,
  );
}

function bodyFailed(entry: WriterEntry, buf: Buffer, why: string, cause: unknown): AppError {
  return new AppError(
    'AVRO_BAD_BODY',
    `Avro single-object body does not decode as ${typeLabel(entry.writer)} ` +
      `(fingerprint 0x${fingerprintHex(entry.fingerprint)}): ${why}`,
    {
      cause,
      details: { reason: 'bad-body', length: buf.length, fingerprint: fingerprintHex(entry.fingerprint) },
    },
  );
}

/** Whether `writer` may be read as `reader` by name (full name, or one of the reader's aliases). */
function sameName(reader: Type, writer: Type): boolean {
  if (reader.name === undefined || writer.name === undefined) return reader.typeName === writer.typeName;
  return reader.name === writer.name || (reader.aliases ?? []).includes(writer.name);
}

/**
 * A single-object serde over the given reader types. Build the types with {@link createAvroType} so that records
 * decode to plain objects. Each reader type's own schema is a known writer schema; older ones are added with
 * {@link SingleObjectSerde.addWriterSchema}.
 */
export function createSingleObjectSerde(readerTypes: readonly Type[]): SingleObjectSerde {
  const codecs = new Map<Type, Codec<unknown>>();
  /** All entries, by low fingerprint word, for decode() of any type. */
  const all = new Map<number, WriterEntry>();
  const list: WriterEntry[] = [];

  const codecOf = (type: Type): Codec<unknown> => {
    const c = codecs.get(type);
    if (c === undefined) {
      throw new AppError('AVRO_ENCODE_FAILED', `${typeLabel(type)} is not one of this serde's types`, {
        details: { type: typeLabel(type) },
      });
    }
    return c;
  };

  const find = (fp: bigint): WriterEntry | undefined => {
    const { lo, hi } = fingerprintWords(fp);
    let e = all.get(lo);
    while (e !== undefined && e.hi !== hi) e = e.next;
    return e;
  };

  const register = (writer: Type, reader: Type, fp: bigint): void => {
    const existing = find(fp);
    if (existing !== undefined) {
      if (existing.reader === reader) return;
      throw new AppError(
        'INTERNAL',
        `writer schema fingerprint 0x${fingerprintHex(fp)} (${typeLabel(writer)}) is already registered ` +
          `for reader ${typeLabel(existing.reader)}`,
      );
    }
    const { lo, hi } = fingerprintWords(fp);
    const direct = fp === codecOf(reader).fingerprint;
    let resolver: WriterEntry['resolver'];
    if (!direct) {
      try {
        resolver = reader.createResolver(writer);
      } catch (e) {
        throw new AppError(
          'INTERNAL',
          `writer schema 0x${fingerprintHex(fp)} (${typeLabel(writer)}) cannot be read as ${typeLabel(reader)}: ` +
            (e instanceof Error ? e.message : String(e)),
          { cause: e },
        );
      }
    }
    const forAll: WriterEntry = { lo, hi, fingerprint: fp, writer, reader, resolver, next: all.get(lo) };
    all.set(lo, forAll);
    const codec = codecOf(reader);
    codec.entries.set(lo, { ...forAll, next: codec.entries.get(lo) });
    list.push(forAll);
  };

  for (const type of readerTypes) {
    if (codecs.has(type)) continue;
    codecs.set(type, new Codec(type));
  }
  for (const type of codecs.keys()) register(type, type, codecOf(type).fingerprint);

  return {
    types: [...codecs.keys()],

    codec<T>(type: Type): SingleObjectCodec<T> {
      return codecOf(type) as SingleObjectCodec<T>;
    },

    encode(type: Type, value: unknown): Buffer {
      return codecOf(type).encode(value);
    },

    decode(buf: Buffer): DecodedRecord {
      checkHeader(buf);
      const lo = buf[2]! | (buf[3]! << 8) | (buf[4]! << 16) | (buf[5]! << 24);
      const hi = buf[6]! | (buf[7]! << 8) | (buf[8]! << 16) | (buf[9]! << 24);
      let entry = all.get(lo);
      while (entry !== undefined && entry.hi !== hi) entry = entry.next;
      if (entry === undefined) {
        throw unknownFingerprint(buf.readBigUInt64LE(2), [...codecs.keys()].map(typeLabel).join(', '));
      }
      return { type: entry.reader, value: readBody(entry, buf) };
    },

    addWriterSchema(writerSchema: AvroSchemaInput, reader?: Type): bigint {
      const writer = avro.Type.isType(writerSchema) ? (writerSchema as Type) : createAvroType(writerSchema);
      const target = reader ?? [...codecs.keys()].find((t) => sameName(t, writer));
      if (target === undefined) {
        throw new AppError(
          'INTERNAL',
          `no reader type for writer schema ${typeLabel(writer)}; readers: ${[...codecs.keys()].map(typeLabel).join(', ')}`,
        );
      }
      const fp = crc64Avro(canonicalForm(writer));
      register(writer, target, fp);
      return fp;
    },

    writers() {
      return list.map((e) => ({ fingerprint: e.fingerprint, writer: e.writer, reader: e.reader, resolved: !!e.resolver }));
    },
  };
}
