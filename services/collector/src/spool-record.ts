import { crc32 } from 'node:zlib';

/** One raw record as the collector publishes it: key, exact value bytes, provenance headers. */
export interface SpoolRecord {
  key: string;
  value: Buffer;
  /** header values as strings or bytes (read back as bytes); repeated names come back as arrays */
  headers: Record<string, string | Buffer | (string | Buffer)[] | undefined>;
}

/**
 * Frame of one record in a spool segment:
 *
 *   u32 BE  body length (bytes after this 8-byte prefix)
 *   u32 BE  CRC-32 of the body
 *   body:   u8 format (1)
 *           u32 BE key length,   key (UTF-8)
 *           u32 BE value length, value
 *           u16 BE header count, then per header: u16 BE name length, name (UTF-8), u32 BE value length, value
 *
 * A record is written with one write(2); a write torn by a crash (short tail, or bytes that do not match the
 * CRC) is recognised by `decodeFrame` and cut off by the spool, never handed on.
 */
export const FRAME_PREFIX = 8;
const FORMAT = 1;
/** bodies larger than this are refused (a length field read from a torn or foreign file) */
export const MAX_BODY = 256 * 1024 * 1024;

export function encodeFrame(record: SpoolRecord): Buffer {
  // Two passes (sizes, then bytes written in place) so that a record costs one allocation.
  const headers: [string, string | Buffer][] = [];
  let body = 1 + 4 + Buffer.byteLength(record.key, 'utf8') + 4 + record.value.length + 2;
  for (const name in record.headers) {
    const v = record.headers[name];
    if (v === undefined) continue;
    const nameLength = Buffer.byteLength(name, 'utf8');
    if (nameLength > 0xffff) throw new RangeError('header name longer than 65535 bytes');
    for (const one of Array.isArray(v) ? v : [v]) {
      headers.push([name, one]);
      body += 2 + nameLength + 4 + (typeof one === 'string' ? Buffer.byteLength(one, 'utf8') : one.length);
    }
  }
  if (headers.length > 0xffff) throw new RangeError(`a spool record holds at most 65535 headers, got ${headers.length}`);
  if (body > MAX_BODY) throw new RangeError(`spool record of ${body} bytes exceeds ${MAX_BODY}`);
  const buf = Buffer.allocUnsafe(FRAME_PREFIX + body);
  let at = FRAME_PREFIX;
  at = buf.writeUInt8(FORMAT, at);
  at = writeString32(buf, at, record.key);
  at = buf.writeUInt32BE(record.value.length, at);
  at += record.value.copy(buf, at);
  at = buf.writeUInt16BE(headers.length, at);
  for (const [name, v] of headers) {
    const n = buf.write(name, at + 2, 'utf8');
    buf.writeUInt16BE(n, at);
    at += 2 + n;
    if (typeof v === 'string') at = writeString32(buf, at, v);
    else {
      at = buf.writeUInt32BE(v.length, at);
      at += v.copy(buf, at);
    }
  }
  buf.writeUInt32BE(body, 0);
  buf.writeUInt32BE(crc32(buf.subarray(FRAME_PREFIX)), 4);
  return buf;
}

/** u32 BE byte length, then the UTF-8 bytes; returns the next offset. */
function writeString32(buf: Buffer, at: number, text: string): number {
  const n = buf.write(text, at + 4, 'utf8');
  buf.writeUInt32BE(n, at);
  return at + 4 + n;
}

export type DecodeResult =
  | { ok: true; record: SpoolRecord; size: number }
  /** `short`: the frame does not fit in `buf` (need `need` bytes from `at`); `corrupt`: the bytes are not a frame */
  | { ok: false; why: 'short'; need: number }
  | { ok: false; why: 'corrupt'; detail: string };

/** Decodes the frame starting at `at` in `buf`. Never throws on bad bytes. */
export function decodeFrame(buf: Buffer, at = 0): DecodeResult {
  if (buf.length - at < FRAME_PREFIX) return { ok: false, why: 'short', need: FRAME_PREFIX };
  const length = buf.readUInt32BE(at);
  if (length < 1 + 4 + 4 + 2 || length > MAX_BODY) return { ok: false, why: 'corrupt', detail: `body length ${length} out of range` };
  if (buf.length - at < FRAME_PREFIX + length) return { ok: false, why: 'short', need: FRAME_PREFIX + length };
  const body = buf.subarray(at + FRAME_PREFIX, at + FRAME_PREFIX + length);
  const want = buf.readUInt32BE(at + 4);
  if (crc32(body) !== want) return { ok: false, why: 'corrupt', detail: 'checksum mismatch' };
  try {
    let p = 0;
    const format = body.readUInt8(p++);
    if (format !== FORMAT) return { ok: false, why: 'corrupt', detail: `unknown record format ${format}` };
    const keyLength = body.readUInt32BE(p);
    p += 4;
    const key = body.toString('utf8', p, p + keyLength);
    p += keyLength;
    const valueLength = body.readUInt32BE(p);
    p += 4;
    // Views, not copies: every read allocates its own buffer, which lives as long as the batch.
    const value = body.subarray(p, p + valueLength);
    p += valueLength;
    const count = body.readUInt16BE(p);
    p += 2;
    const headers: SpoolRecord['headers'] = {};
    for (let i = 0; i < count; i++) {
      const nameLength = body.readUInt16BE(p);
      p += 2;
      const name = body.toString('utf8', p, p + nameLength);
      p += nameLength;
      const vLength = body.readUInt32BE(p);
      p += 4;
      const v = body.subarray(p, p + vLength);
      p += vLength;
      const prev = headers[name];
      headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    if (p !== body.length) return { ok: false, why: 'corrupt', detail: `${body.length - p} trailing bytes in record` };
    return { ok: true, record: { key, value, headers }, size: FRAME_PREFIX + length };
  } catch (error) {
    return { ok: false, why: 'corrupt', detail: `malformed body: ${(error as Error).message}` };
  }
}
