/**
 * CRC-64-AVRO ("Rabin") fingerprints of Avro schemas, as the Avro specification defines them for single-object
 * encoding: the 64-bit Rabin fingerprint, with the spec's EMPTY = 0xc15d213aa4d7a795, of the UTF-8 bytes of the
 * schema's Parsing Canonical Form.
 *
 * The Parsing Canonical Form comes from avsc: `Type#schema()` with no options keeps only name, type, fields,
 * symbols, items, values and size, writes full names, drops namespace/doc/aliases/defaults/order/logicalType,
 * replaces `{"type":"int"}` by `"int"` and writes each named type in full once, then by name. That this equals
 * Apache Avro's canonical form is checked by fingerprint.test.ts against Avro's own test vectors.
 *
 * Fingerprints are computed once per schema, at start-up, never per record. They are unsigned bigints here
 * (Java's `SchemaNormalization.parsingFingerprint64` returns the same 64 bits as a signed long; see
 * {@link fingerprintToSignedLong}).
 */
import avro from 'avsc';
import type { Type } from 'avsc';

/** A schema as JSON (a type name string, an object, or a union array) or an avsc Type built from one. */
export type AvroSchemaInput = Type | string | Record<string, unknown> | readonly unknown[];

type ForSchemaArg = Parameters<typeof avro.Type.forSchema>[0];

/** The Rabin polynomial's "empty" fingerprint from the Avro specification. */
const EMPTY_HI = 0xc15d213a;
const EMPTY_LO = 0xa4d7a795;

/**
 * The 256-entry table, kept as two 32-bit halves so that fingerprinting needs no BigInt arithmetic per byte.
 * Entry i is i shifted right 8 times, xor-ing EMPTY in whenever a 1 bit falls off the low end.
 */
const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let bit = 0; bit < 8; bit++) {
    const dropped = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi = hi >>> 1;
    if (dropped) {
      lo = (lo ^ EMPTY_LO) >>> 0;
      hi = (hi ^ EMPTY_HI) >>> 0;
    }
  }
  TABLE_LO[i] = lo;
  TABLE_HI[i] = hi;
}

/** CRC-64-AVRO of raw bytes, or of a string's UTF-8 bytes. Unsigned 64-bit result. */
export function crc64Avro(data: Uint8Array | string): bigint {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let lo = EMPTY_LO;
  let hi = EMPTY_HI;
  for (let i = 0; i < bytes.length; i++) {
    const idx = (lo ^ (bytes[i] as number)) & 0xff;
    const shiftedLo = ((lo >>> 8) | (hi << 24)) >>> 0;
    const shiftedHi = hi >>> 8;
    lo = (shiftedLo ^ (TABLE_LO[idx] as number)) >>> 0;
    hi = (shiftedHi ^ (TABLE_HI[idx] as number)) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** The avsc Type of a schema input (built with avsc defaults when the input is JSON). */
function toType(schema: AvroSchemaInput): Type {
  return avro.Type.isType(schema) ? (schema as Type) : avro.Type.forSchema(schema as ForSchemaArg);
}

/** Apache Avro's Parsing Canonical Form of a schema, as the exact JSON text that is fingerprinted. */
export function canonicalForm(schema: AvroSchemaInput): string {
  return JSON.stringify(toType(schema).schema());
}

/** CRC-64-AVRO fingerprint of a schema's Parsing Canonical Form (unsigned). */
export function schemaFingerprint(schema: AvroSchemaInput): bigint {
  return crc64Avro(canonicalForm(schema));
}

/** The 8 little-endian bytes of a fingerprint, as they appear after `C3 01` in a single-object message. */
export function fingerprintToBytes(fingerprint: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64LE(BigInt.asUintN(64, fingerprint), 0);
  return out;
}

/** Reads an 8-byte little-endian fingerprint (unsigned) from `buf` at `offset`. */
export function fingerprintFromBytes(buf: Uint8Array, offset = 0): bigint {
  if (offset < 0 || buf.length < offset + 8) {
    throw new RangeError(`need 8 bytes at offset ${offset}, have ${Math.max(0, buf.length - offset)}`);
  }
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return b.readBigUInt64LE(offset);
}

/** A fingerprint as 16 hex digits, most significant first (the number, not the wire byte order). */
export function fingerprintHex(fingerprint: bigint): string {
  return BigInt.asUintN(64, fingerprint).toString(16).padStart(16, '0');
}

/** The same 64 bits as Java's signed `long` (what `SchemaNormalization.parsingFingerprint64` returns). */
export function fingerprintToSignedLong(fingerprint: bigint): bigint {
  return BigInt.asIntN(64, fingerprint);
}
