import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  INSTRUMENT_KINDS,
  ORDER_STATUSES,
  ORDER_TYPES,
  POSITION_SIDES,
  SCHEMA_DIR,
  SCHEMA_FILES,
  SIDES,
  TIMES_IN_FORCE,
  readSchema,
  type CanonicalOrder,
  type Execution,
  type OrderState,
  type Source,
} from './index.js';

/**
 * The .avsc files are the source of truth; the TypeScript in index.ts mirrors them. These tests keep the two in
 * step. The field tables below are typed from the interfaces, so `tsc` fails when a field is added to or removed
 * from an interface without the table, or when a field's nullability in TypeScript differs from the table; the
 * tests then compare the tables with the .avsc files.
 */
type Nullability<T> = { [K in keyof T]-?: null extends T[K] ? 'nullable' : 'required' };

const CANONICAL_ORDER_FIELDS: Nullability<CanonicalOrder> = {
  orderKey: 'required',
  venue: 'required',
  account: 'required',
  orderId: 'required',
  clientOrderId: 'nullable',
  venueSymbol: 'required',
  symbol: 'nullable',
  instrumentKind: 'required',
  side: 'required',
  positionSide: 'nullable',
  orderType: 'required',
  venueOrderType: 'nullable',
  timeInForce: 'nullable',
  status: 'required',
  venueStatus: 'required',
  price: 'nullable',
  triggerPrice: 'nullable',
  quantity: 'nullable',
  venueQuantity: 'nullable',
  quoteQuantity: 'nullable',
  filledQuantity: 'nullable',
  venueFilledQuantity: 'nullable',
  filledQuoteQuantity: 'nullable',
  averagePrice: 'nullable',
  fee: 'nullable',
  feeAsset: 'nullable',
  lastFillQuantity: 'nullable',
  lastFillPrice: 'nullable',
  lastFillFee: 'nullable',
  lastFillId: 'nullable',
  reduceOnly: 'nullable',
  postOnly: 'nullable',
  createdAt: 'nullable',
  updatedAt: 'nullable',
  receivedAt: 'required',
  source: 'required',
  extras: 'required',
};
const SOURCE_FIELDS: Nullability<Source> = { topic: 'required', partition: 'required', offset: 'required' };
const ORDER_STATE_FIELDS: Nullability<OrderState> = {
  order: 'required',
  updateCount: 'required',
  stateUpdatedAt: 'required',
  executions: 'required',
  note: 'nullable',
};
const EXECUTION_FIELDS: Nullability<Execution> = {
  id: 'required',
  quantity: 'required',
  price: 'required',
  fee: 'nullable',
};

interface AvroField {
  name: string;
  type: unknown;
  default?: unknown;
}
interface AvroNamed {
  type: string;
  name: string;
  fields?: AvroField[];
  symbols?: string[];
}

/** Every named type (record, enum, fixed) defined anywhere in a schema, by short name. */
function namedTypes(schema: unknown, out = new Map<string, AvroNamed>()): Map<string, AvroNamed> {
  if (Array.isArray(schema)) {
    for (const s of schema) namedTypes(s, out);
  } else if (schema !== null && typeof schema === 'object') {
    const s = schema as Record<string, unknown>;
    if (typeof s.name === 'string' && typeof s.type === 'string' && ['record', 'enum', 'fixed'].includes(s.type)) {
      out.set(s.name.split('.').pop()!, s as unknown as AvroNamed);
    }
    if (Array.isArray(s.fields)) for (const f of s.fields as AvroField[]) namedTypes(f.type, out);
    if (s.items !== undefined) namedTypes(s.items, out);
    if (s.values !== undefined) namedTypes(s.values, out);
    if (typeof s.type === 'object') namedTypes(s.type, out);
  }
  return out;
}

/** 'nullable' when the field's type is a union with "null", as the TS interfaces write `X | null`. */
function avroNullability(record: AvroNamed): Record<string, 'nullable' | 'required'> {
  return Object.fromEntries(
    (record.fields ?? []).map((f) => [f.name, Array.isArray(f.type) && f.type.includes('null') ? 'nullable' : 'required']),
  );
}

const canonical = readSchema('canonicalOrder');
const state = readSchema('orderState');
const canonicalTypes = namedTypes(canonical);
const stateTypes = namedTypes(state);

describe('schemas/avro', () => {
  it('holds exactly the files index.ts knows', () => {
    expect(readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.avsc')).sort()).toEqual(
      Object.values(SCHEMA_FILES).sort(),
    );
  });

  it('declares the records in the orderstream.v1 namespace', () => {
    expect(canonical).toMatchObject({ type: 'record', name: 'CanonicalOrder', namespace: 'orderstream.v1' });
    expect(state).toMatchObject({ type: 'record', name: 'OrderState', namespace: 'orderstream.v1' });
  });

  it('order-state.avsc inlines a CanonicalOrder identical to canonical-order.avsc (docs and defaults too)', () => {
    const order = (state.fields as AvroField[]).find((f) => f.name === 'order');
    expect(order?.type).toEqual(canonical);
  });

  it.each([
    ['OrderStatus', ORDER_STATUSES],
    ['InstrumentKind', INSTRUMENT_KINDS],
    ['Side', SIDES],
    ['PositionSide', POSITION_SIDES],
    ['OrderType', ORDER_TYPES],
    ['TimeInForce', TIMES_IN_FORCE],
  ] as const)('enum %s has the symbols of the TypeScript const array, in order', (name, symbols) => {
    for (const types of [canonicalTypes, stateTypes]) {
      const e = types.get(name);
      expect(e?.type).toBe('enum');
      expect(e?.symbols).toEqual([...symbols]);
    }
  });

  it('defines no enum the TypeScript does not mirror', () => {
    const enums = [...stateTypes.values()].filter((t) => t.type === 'enum').map((t) => t.name).sort();
    expect(enums).toEqual(['InstrumentKind', 'OrderStatus', 'OrderType', 'PositionSide', 'Side', 'TimeInForce']);
  });

  it.each([
    ['CanonicalOrder', CANONICAL_ORDER_FIELDS, canonicalTypes],
    ['Source', SOURCE_FIELDS, canonicalTypes],
    ['OrderState', ORDER_STATE_FIELDS, stateTypes],
    ['Execution', EXECUTION_FIELDS, stateTypes],
  ] as const)('record %s has the fields of the TypeScript interface, with the same nullability', (name, fields, types) => {
    const record = types.get(name);
    expect(record?.type).toBe('record');
    // Same names, both ways, and the same null-ness; field order is the .avsc's business.
    expect(avroNullability(record!)).toEqual(fields);
  });

  it('every nullable field defaults to null, so adding one keeps old records readable', () => {
    for (const t of stateTypes.values()) {
      for (const f of t.fields ?? []) {
        if (Array.isArray(f.type) && f.type.includes('null')) {
          expect({ field: `${t.name}.${f.name}`, first: f.type[0], default: f.default }).toEqual({
            field: `${t.name}.${f.name}`,
            first: 'null',
            default: null,
          });
        }
      }
    }
  });

  it('times are timestamp-micros longs', () => {
    const timeFields = ['createdAt', 'updatedAt', 'receivedAt'];
    for (const f of (canonical.fields as AvroField[]).filter((x) => timeFields.includes(x.name))) {
      const branch = Array.isArray(f.type) ? f.type.find((b) => b !== 'null') : f.type;
      expect(branch).toEqual({ type: 'long', logicalType: 'timestamp-micros' });
    }
    const stamp = (state.fields as AvroField[]).find((f) => f.name === 'stateUpdatedAt');
    expect(stamp?.type).toEqual({ type: 'long', logicalType: 'timestamp-micros' });
  });
});
