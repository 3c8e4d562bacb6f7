import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '@orderstream/kit';
import { createAvroType } from './avro-type.js';
import { fingerprintHex, fingerprintToBytes, schemaFingerprint } from './fingerprint.js';
import {
  createSingleObjectSerde,
  isSingleObjectMessage,
  readSingleObjectFingerprint,
  SINGLE_OBJECT_HEADER_LENGTH,
} from './single-object.js';

/** Version 2 of a small record: v1 had no `note`, and `kind` gained the symbol C. */
const tradeV2 = {
  type: 'record',
  name: 'Trade',
  namespace: 'test.v1',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'long' },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C', 'OTHER'], default: 'OTHER' } },
    { name: 'leg', type: { type: 'record', name: 'Leg', fields: [{ name: 'px', type: ['null', 'string'] }] } },
    { name: 'tags', type: { type: 'map', values: 'string' }, default: {} },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};
const tradeV1 = {
  type: 'record',
  name: 'Trade',
  namespace: 'test.v1',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'qty', type: 'long' },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'OTHER'] } },
    { name: 'leg', type: { type: 'record', name: 'Leg', fields: [{ name: 'px', type: ['null', 'string'] }] } },
    { name: 'tags', type: { type: 'map', values: 'string' }, default: {} },
    { name: 'legacy', type: 'int', default: 0 },
  ],
};
const ping = { type: 'record', name: 'Ping', namespace: 'test.v1', fields: [{ name: 'at', type: 'long' }] };

const trade = () => ({ id: 't-1', qty: 5, kind: 'B', leg: { px: '1.5' }, tags: { a: 'x' }, note: 'n' });

function appError(fn: () => unknown, code: ErrorCode): AppError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe(code);
    return e as AppError;
  }
  throw new Error(`expected AppError ${code}, nothing was thrown`);
}

describe('single-object encoding', () => {
  const tradeType = createAvroType(tradeV2);
  const pingType = createAvroType(ping);
  const serde = createSingleObjectSerde([tradeType, pingType]);

  it('writes C3 01, the 8-byte little-endian fingerprint, then the Avro binary body', () => {
    const fp = schemaFingerprint(tradeV2);
    const msg = serde.encode(tradeType, trade());
    expect(msg.subarray(0, 2).toString('hex')).toBe('c301');
    expect(msg.subarray(2, 10)).toEqual(fingerprintToBytes(fp));
    expect(msg.subarray(10)).toEqual(tradeType.toBuffer(trade()));
    expect(serde.codec(tradeType).fingerprint).toBe(fp);
    expect(serde.codec(tradeType).header()).toEqual(msg.subarray(0, 10));
    expect(readSingleObjectFingerprint(msg)).toBe(fp);
    expect(isSingleObjectMessage(msg)).toBe(true);
  });

  it('round-trips to plain objects and finds the type by fingerprint', () => {
    const decoded = serde.decode(serde.encode(tradeType, trade()));
    expect(decoded.type).toBe(tradeType);
    expect(decoded.value).toStrictEqual(trade());
    const v = decoded.value as ReturnType<typeof trade>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(v.leg)).toBe(Object.prototype);

    const p = serde.decode(serde.encode(pingType, { at: 1_700_000_000_000_000 }));
    expect(p.type).toBe(pingType);
    expect(p.value).toStrictEqual({ at: 1_700_000_000_000_000 });
    expect(serde.codec<{ at: number }>(pingType).decode(serde.encode(pingType, { at: 7 }))).toStrictEqual({ at: 7 });
  });

  it('returns a fresh buffer per message (the scratch buffer is not shared with the caller)', () => {
    const a = serde.encode(tradeType, trade());
    const copy = Buffer.from(a);
    serde.encode(tradeType, { ...trade(), id: 'something-else-entirely' });
    expect(a).toEqual(copy);
  });

  it('encodes values larger than the scratch buffer, and small ones after that', () => {
    const big = { ...trade(), note: 'x'.repeat(100_000), tags: Object.fromEntries([...Array(500).keys()].map((i) => [`k${i}`, `v${i}`])) };
    expect(serde.decode(serde.encode(tradeType, big)).value).toStrictEqual(big);
    expect(serde.decode(serde.encode(tradeType, trade())).value).toStrictEqual(trade());
  });

  describe('bad input', () => {
    const good = serde.encode(tradeType, trade());

    it('short buffers → AVRO_BAD_HEADER', () => {
      expect(appError(() => serde.decode(Buffer.alloc(0)), 'AVRO_BAD_HEADER').message).toMatch(/0 bytes/);
      appError(() => serde.decode(good.subarray(0, SINGLE_OBJECT_HEADER_LENGTH - 1)), 'AVRO_BAD_HEADER');
      expect(isSingleObjectMessage(good.subarray(0, 9))).toBe(false);
    });

    it('wrong magic → AVRO_BAD_HEADER, with a hint for Confluent framing', () => {
      const bad = Buffer.from(good);
      bad[1] = 0x02;
      expect(appError(() => serde.decode(bad), 'AVRO_BAD_HEADER').message).toMatch(/c302, expected c301/);
      const confluent = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), tradeType.toBuffer(trade())]);
      expect(appError(() => serde.decode(confluent), 'AVRO_BAD_HEADER').message).toMatch(/Confluent/);
      appError(() => serde.codec(tradeType).decode(bad), 'AVRO_BAD_HEADER');
      appError(() => readSingleObjectFingerprint(bad), 'AVRO_BAD_HEADER');
    });

    it('unknown fingerprint → AVRO_UNKNOWN_FINGERPRINT showing it in hex', () => {
      const other = createSingleObjectSerde([createAvroType(tradeV1)]);
      const msg = other.encode(other.types[0]!, { ...trade(), kind: 'A' });
      const fp = schemaFingerprint(tradeV1);
      const err = appError(() => serde.decode(msg), 'AVRO_UNKNOWN_FINGERPRINT');
      expect(err.message).toContain(`0x${fingerprintHex(fp)}`);
      expect(err.message).toContain(fingerprintToBytes(fp).toString('hex'));
      expect(err.details.fingerprint).toBe(fingerprintHex(fp));
    });

    it('a known fingerprint of another type → AVRO_UNKNOWN_FINGERPRINT from that codec', () => {
      const msg = serde.encode(pingType, { at: 1 });
      expect(appError(() => serde.codec(tradeType).decode(msg), 'AVRO_UNKNOWN_FINGERPRINT').message).toContain(
        'test.v1.Trade',
      );
    });

    it('truncated or padded body → AVRO_BAD_BODY', () => {
      const truncated = appError(() => serde.decode(good.subarray(0, good.length - 3)), 'AVRO_BAD_BODY');
      expect(truncated.details.reason).toBe('bad-body');
      expect(truncated.message).toMatch(/truncated/);
      const padded = appError(() => serde.decode(Buffer.concat([good, Buffer.from([0])])), 'AVRO_BAD_BODY');
      expect(padded.message).toMatch(/1 trailing bytes/);
      const garbage = Buffer.concat([good.subarray(0, 10), Buffer.from([0x02, 0x41, 0x02, 0x7f, 0x7f])]);
      appError(() => serde.decode(garbage), 'AVRO_BAD_BODY');
    });

    it('invalid values → AVRO_ENCODE_FAILED naming each offending field path', () => {
      const bad = { id: 't-1', qty: 1.5, kind: 'Z', leg: { px: 7 }, tags: { a: 1 } };
      const err = appError(() => serde.encode(tradeType, bad), 'AVRO_ENCODE_FAILED');
      expect(err.message).toContain('test.v1.Trade');
      expect(err.message).toContain('qty = 1.5 (expected long)');
      expect(err.message).toContain('kind = "Z" (expected test.v1.Kind)');
      expect(err.message).toContain('leg.px = 7');
      expect(err.message).toContain('tags.a = 1 (expected string)');
      expect((err.details.problems as unknown[]).length).toBe(4);

      const missing = appError(() => serde.encode(tradeType, { ...trade(), id: undefined }), 'AVRO_ENCODE_FAILED');
      expect(missing.message).toContain('id = undefined (expected string)');
      const notObject = appError(() => serde.encode(tradeType, null), 'AVRO_ENCODE_FAILED');
      expect(notObject.message).toContain('(value) = null');
      const unsafe = appError(() => serde.encode(pingType, { at: 2 ** 53 + 2 }), 'AVRO_ENCODE_FAILED');
      expect(unsafe.message).toContain('at = 9007199254740994 (expected long)');
    });

    it('a type the serde does not hold → AVRO_ENCODE_FAILED', () => {
      appError(() => serde.encode(createAvroType(ping), { at: 1 }), 'AVRO_ENCODE_FAILED');
    });
  });

  describe('schema evolution', () => {
    const v1Type = createAvroType(tradeV1);
    const oldProducer = createSingleObjectSerde([v1Type]);
    const v1Value = { id: 'old', qty: 9, kind: 'A', leg: { px: null }, tags: {}, legacy: 4 };
    const v1Message = oldProducer.encode(v1Type, v1Value);

    it('reads a record of a registered older writer schema with the current reader', () => {
      const reader = createAvroType(tradeV2);
      const current = createSingleObjectSerde([reader]);
      appError(() => current.decode(v1Message), 'AVRO_UNKNOWN_FINGERPRINT');

      const fp = current.addWriterSchema(tradeV1);
      expect(fp).toBe(schemaFingerprint(tradeV1));
      expect(current.addWriterSchema(tradeV1)).toBe(fp); // again: no-op
      const { type, value } = current.decode(v1Message);
      expect(type).toBe(reader);
      // `note` is new (its default applies); `legacy` is gone (skipped).
      expect(value).toStrictEqual({ id: 'old', qty: 9, kind: 'A', leg: { px: null }, tags: {}, note: null });
      expect(Object.getPrototypeOf((value as { leg: object }).leg)).toBe(Object.prototype);
      expect(current.codec(reader).decode(v1Message)).toStrictEqual(value);
      expect(current.writers().map((w) => w.resolved)).toEqual([false, true]);
    });

    it('maps an enum symbol the reader lacks to the reader enum default', () => {
      // The "old" reader here is v1 (no C); a newer writer (v2) sends C. v1's enum has no default, so give it one.
      const v1WithDefault = structuredClone(tradeV1);
      (v1WithDefault.fields[2]!.type as { default?: string }).default = 'OTHER';
      const oldReader = createAvroType(v1WithDefault);
      const oldConsumer = createSingleObjectSerde([oldReader]);
      oldConsumer.addWriterSchema(tradeV2);
      const msg = serde.encode(tradeType, { ...trade(), kind: 'C' });
      expect(oldConsumer.decode(msg).value).toMatchObject({ kind: 'OTHER', legacy: 0 });
    });

    it('refuses at registration a writer the reader cannot resolve', () => {
      const current = createSingleObjectSerde([createAvroType(tradeV2)]);
      const noQty = { ...tradeV1, fields: tradeV1.fields.filter((f) => f.name !== 'qty') };
      expect(appError(() => current.addWriterSchema(noQty), 'INTERNAL').message).toMatch(/cannot be read as test.v1.Trade/);
      expect(appError(() => current.addWriterSchema(ping), 'INTERNAL').message).toMatch(/no reader type/);
    });

    it('finds the reader of a renamed record through its aliases', () => {
      const current = createSingleObjectSerde([createAvroType({ ...tradeV2, aliases: ['test.v1.OldTrade'] })]);
      const renamed = { ...tradeV1, name: 'OldTrade' };
      const oldType = createAvroType(renamed);
      current.addWriterSchema(oldType);
      const msg = createSingleObjectSerde([oldType]).encode(oldType, v1Value);
      expect(current.decode(msg).value).toMatchObject({ id: 'old', note: null });
    });
  });
});
