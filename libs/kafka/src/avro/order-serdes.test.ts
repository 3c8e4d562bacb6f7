import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '@orderstream/kit';
import { readSchema, type CanonicalOrder, type OrderState } from '@orderstream/schemas';
import { createAvroType } from './avro-type.js';
import { fingerprintHex, fingerprintToBytes, fingerprintToSignedLong } from './fingerprint.js';
import { createOrderSerdes, orderSerdes } from './order-serdes.js';
import { createSingleObjectSerde } from './single-object.js';
import { sampleCanonicalOrder, sampleOrderState } from './test-fixtures.js';

/**
 * Bytes written by Apache Avro Java 1.12.1 `BinaryMessageEncoder<GenericRecord>` (GenericData) for
 * sampleCanonicalOrder() and sampleOrderState(), after decoding this library's output with `BinaryMessageDecoder`.
 * Java's HashMap puts the state's two `extras` keys in another order than JS does, so the state bytes differ from
 * ours in that map only; the canonical bytes are identical. Java's `SchemaNormalization.parsingFingerprint64`
 * gave -3261006517230960462 for canonical-order.avsc and 1596695961384241679 for order-state.avsc.
 */
const JAVA_CANONICAL_HEX =
  'c301b20037a2d993bed23478747c6d61696e7c333837343631303934383330393831313230047874086d61696e2433383734' +
  '3631303934383330393831313230021a6f732d37663361396332316534106274635f75736474021a4254432f555344543a55' +
  '5344540200020000020a4c494d4954020006205041525449414c4c595f46494c4c4544020e36343235302e35000208302e32' +
  '350206323530000206302e310206313030020e363432352e3035020e36343235302e35020e322e3537303032020855534454' +
  '000000000200020002f0d4e6d98cda930600aab48fda8cda93061a6f72646572732e7261772e763106808080010218636f6e' +
  '747261637453697a650a302e30303100';
const JAVA_STATE_HEX =
  'c3010fca9b68849a28163c7765627365617c6465736b2d327c393030373139393235343734303939330c7765627365610c64' +
  '65736b2d32203930303731393932353437343039393300104554482d5553445402104554482f555344540002000002023100' +
  '0a0a5452414445020c333132302e34000206312e350206312e35000206312e350206312e35020c343638302e36020c333132' +
  '302e34020c2d302e3436380208555344540206302e35020c333132302e34020c2d302e313536021074726164652d37370002' +
  '010280f8db9f8bda930602a0c2d8de8cda930692d7d8de8cda93061a6f72646572732e7261772e76310054041ac3bc6ec3af' +
  '636f64652d6b65791476c3a472646520e29c930e747261646549641037373132303030390006c0cfdede8cda930604103737' +
  '31323030303802310c333132302e34020c2d302e33313210373731323030303906302e350c333132302e34000000';

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

/** A copy of a schema's JSON without one top-level field. */
function withoutField(schema: Record<string, unknown>, name: string): Record<string, unknown> {
  const copy = structuredClone(schema);
  copy.fields = (copy.fields as Array<{ name: string }>).filter((f) => f.name !== name);
  return copy;
}

function minimalOrder(): CanonicalOrder {
  return {
    orderKey: 'bsx|b|1',
    venue: 'bsx',
    account: 'b',
    orderId: '1',
    clientOrderId: null,
    venueSymbol: 'BTC-PERP',
    symbol: null,
    instrumentKind: 'OTHER',
    side: 'SELL',
    positionSide: null,
    orderType: 'OTHER',
    venueOrderType: null,
    timeInForce: null,
    status: 'PENDING_NEW',
    venueStatus: 'NOT_FOUND',
    price: null,
    triggerPrice: null,
    quantity: null,
    venueQuantity: null,
    quoteQuantity: null,
    filledQuantity: null,
    venueFilledQuantity: null,
    filledQuoteQuantity: null,
    averagePrice: null,
    fee: null,
    feeAsset: null,
    lastFillQuantity: null,
    lastFillPrice: null,
    lastFillFee: null,
    lastFillId: null,
    reduceOnly: null,
    postOnly: null,
    createdAt: null,
    updatedAt: null,
    receivedAt: 0,
    source: { topic: 'orders.raw.v1', partition: 0, offset: 0 },
    extras: {},
  };
}

describe('orderSerdes', () => {
  const s = orderSerdes();

  it('is created once per process', () => {
    expect(orderSerdes()).toBe(s);
  });

  it('has the fingerprints documented in docs/avro.md (update the doc if a schema change moves them)', () => {
    expect(fingerprintHex(s.canonicalFingerprint)).toBe('d2be93d9a23700b2');
    expect(fingerprintToSignedLong(s.canonicalFingerprint)).toBe(-3261006517230960462n);
    expect(fingerprintToBytes(s.canonicalFingerprint).toString('hex')).toBe('b20037a2d993bed2');
    expect(fingerprintHex(s.stateFingerprint)).toBe('16289a84689bca0f');
    expect(fingerprintToSignedLong(s.stateFingerprint)).toBe(1596695961384241679n);
    expect(fingerprintToBytes(s.stateFingerprint).toString('hex')).toBe('0fca9b68849a2816');
  });

  it('round-trips a CanonicalOrder to a plain object equal to the input', () => {
    const order = sampleCanonicalOrder();
    const msg = s.encodeCanonical(order);
    expect(msg.subarray(0, 10).toString('hex')).toBe('c301b20037a2d993bed2');
    const back = s.decodeCanonical(msg);
    expect(back).toStrictEqual(order);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(back.source)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(back.extras)).toBe(Object.prototype);
    expect(typeof back.receivedAt).toBe('number');
    expect(typeof back.source.offset).toBe('number');
  });

  it('round-trips an order with every optional field null and an empty extras map', () => {
    expect(s.decodeCanonical(s.encodeCanonical(minimalOrder()))).toStrictEqual(minimalOrder());
  });

  it('round-trips an OrderState to plain objects', () => {
    const state = sampleOrderState();
    const back = s.decodeState(s.encodeState(state));
    expect(back).toStrictEqual(state);
    expect(Object.getPrototypeOf(back.order)).toBe(Object.prototype);
    expect(Array.isArray(back.executions)).toBe(true);
    expect(Object.getPrototypeOf(back.executions[0])).toBe(Object.prototype);
  });

  it('writes the same bytes as Apache Avro Java and reads what Java wrote', () => {
    expect(s.encodeCanonical(sampleCanonicalOrder()).toString('hex')).toBe(JAVA_CANONICAL_HEX);
    expect(s.decodeCanonical(Buffer.from(JAVA_CANONICAL_HEX, 'hex'))).toStrictEqual(sampleCanonicalOrder());
    expect(s.decodeState(Buffer.from(JAVA_STATE_HEX, 'hex'))).toStrictEqual(sampleOrderState());
  });

  it('tells the two record types apart', () => {
    const state = s.encodeState(sampleOrderState());
    expect(s.serde.decode(state).type).toBe(s.stateType);
    expect(s.serde.decode(s.encodeCanonical(sampleCanonicalOrder())).type).toBe(s.canonicalType);
    appError(() => s.decodeCanonical(state), 'AVRO_UNKNOWN_FINGERPRINT');
    appError(() => s.decodeState(s.encodeCanonical(sampleCanonicalOrder())), 'AVRO_UNKNOWN_FINGERPRINT');
  });

  it('rejects bad headers and unknown fingerprints', () => {
    appError(() => s.decodeCanonical(Buffer.from('{"orderKey":"x"}')), 'AVRO_BAD_HEADER');
    appError(() => s.decodeCanonical(Buffer.from([0xc3, 0x01, 1, 2])), 'AVRO_BAD_HEADER');
    const msg = s.encodeCanonical(sampleCanonicalOrder());
    msg[9] = msg[9]! ^ 0xff;
    expect(appError(() => s.decodeCanonical(msg), 'AVRO_UNKNOWN_FINGERPRINT').message).toContain('0x2dbe93d9a23700b2');
  });

  it('names the invalid fields of a bad order', () => {
    const bad = {
      ...sampleCanonicalOrder(),
      status: 'DONE',
      price: 64250.5,
      source: { topic: 'orders.raw.v1', partition: 3, offset: '1048576' },
      extras: { leverage: 20 },
    } as unknown as CanonicalOrder;
    const err = appError(() => s.encodeCanonical(bad), 'AVRO_ENCODE_FAILED');
    expect(err.message).toContain('orderstream.v1.CanonicalOrder');
    expect(err.message).toContain('status = "DONE" (expected orderstream.v1.OrderStatus)');
    expect(err.message).toContain('price = 64250.5 (expected null | string)');
    expect(err.message).toContain('source.offset = "1048576" (expected long)');
    expect(err.message).toContain('extras.leverage = 20 (expected string)');

    const noTime = { ...sampleCanonicalOrder(), receivedAt: undefined } as unknown as CanonicalOrder;
    expect(appError(() => s.encodeCanonical(noTime), 'AVRO_ENCODE_FAILED').message).toContain('receivedAt = undefined');
    const badState = { ...sampleOrderState(), executions: [{ id: 'e', quantity: '1', price: null, fee: null }] };
    expect(appError(() => s.encodeState(badState as unknown as OrderState), 'AVRO_ENCODE_FAILED').message).toContain(
      'executions.0.price = null',
    );
  });

  describe('schema evolution', () => {
    it('reads a CanonicalOrder written before `triggerPrice` existed', () => {
      const oldSchema = withoutField(readSchema('canonicalOrder'), 'triggerPrice');
      const oldType = createAvroType(oldSchema);
      const { triggerPrice: _dropped, ...oldValue } = { ...sampleCanonicalOrder(), triggerPrice: '1' };
      const oldMessage = createSingleObjectSerde([oldType]).encode(oldType, oldValue);

      appError(() => s.decodeCanonical(oldMessage), 'AVRO_UNKNOWN_FINGERPRINT');
      const withOld = createOrderSerdes({ canonicalWriterSchemas: [oldSchema] });
      const back = withOld.decodeCanonical(oldMessage);
      expect(back).toStrictEqual({ ...sampleCanonicalOrder(), triggerPrice: null });
      // Current records still read directly.
      expect(withOld.decodeCanonical(s.encodeCanonical(sampleCanonicalOrder()))).toStrictEqual(sampleCanonicalOrder());
    });

    it('reads an OrderState written before `note` existed', () => {
      const oldSchema = withoutField(readSchema('orderState'), 'note');
      const oldType = createAvroType(oldSchema);
      const { note: _dropped, ...oldValue } = sampleOrderState();
      const oldMessage = createSingleObjectSerde([oldType]).encode(oldType, oldValue);
      const withOld = createOrderSerdes({ stateWriterSchemas: [oldSchema] });
      expect(withOld.decodeState(oldMessage)).toStrictEqual(sampleOrderState());
    });
  });
});

describe('snapshot markers on the canonical topic', () => {
  const s = orderSerdes();
  const marker = { venue: 'bsx', account: 'main', orderKeys: ['bsx|main|a', 'bsx|main|b'], receivedAt: 1_700_000_000_123_456, source: { topic: 'orders.raw.v1', partition: 1, offset: 42 } };

  it('tells orders and markers apart by fingerprint', () => {
    expect(s.decodeCanonicalTopic(s.encodeMarker(marker))).toEqual({ kind: 'snapshot', marker });
    const order = sampleCanonicalOrder();
    expect(s.decodeCanonicalTopic(s.encodeCanonical(order))).toEqual({ kind: 'order', order });
    expect(s.encodeMarker(marker).subarray(2, 10).equals(fingerprintToBytes(s.markerFingerprint))).toBe(true);
    expect(fingerprintHex(s.markerFingerprint)).toBe('f00de30f28bbc98e'); // docs/avro.md
  });

  it('refuses a state record on the canonical topic', () => {
    appError(() => s.decodeCanonicalTopic(s.encodeState(sampleOrderState())), 'AVRO_UNKNOWN_FINGERPRINT');
  });
});
