/**
 * orderstream's own Avro values: CanonicalOrder (orders.canonical.v1) and OrderState (orders.state.v1), in
 * single-object encoding, read from the .avsc files in @orderstream/schemas (the source of truth).
 */
import type { Type } from 'avsc';
import { readSchema, type CanonicalOrder, type OrderState, type SnapshotMarker } from '@orderstream/schemas';
import { AppError } from '@orderstream/kit';
import { createAvroType, typeLabel } from './avro-type.js';
import type { AvroSchemaInput } from './fingerprint.js';
import { createSingleObjectSerde, type SingleObjectCodec, type SingleObjectSerde } from './single-object.js';

export interface OrderSerdes {
  /** The underlying serde (both reader types); decode() of it tells which of the two a message is. */
  readonly serde: SingleObjectSerde;
  readonly canonicalType: Type;
  readonly stateType: Type;
  readonly canonical: SingleObjectCodec<CanonicalOrder>;
  readonly state: SingleObjectCodec<OrderState>;
  /** CRC-64-AVRO of canonical-order.avsc's Parsing Canonical Form (unsigned). */
  readonly canonicalFingerprint: bigint;
  /** CRC-64-AVRO of order-state.avsc's Parsing Canonical Form (unsigned). */
  readonly stateFingerprint: bigint;
  encodeCanonical(order: CanonicalOrder): Buffer;
  decodeCanonical(buf: Buffer): CanonicalOrder;
  encodeState(state: OrderState): Buffer;
  decodeState(buf: Buffer): OrderState;
  readonly markerType: Type;
  readonly markerFingerprint: bigint;
  encodeMarker(marker: SnapshotMarker): Buffer;
  /** A value of orders.canonical.v1: an order update, or a snapshot marker (told apart by fingerprint). */
  decodeCanonicalTopic(buf: Buffer): CanonicalTopicValue;
}

export type CanonicalTopicValue = { kind: 'order'; order: CanonicalOrder } | { kind: 'snapshot'; marker: SnapshotMarker };

export interface OrderSerdesOptions {
  /** Older CanonicalOrder writer schemas still found on the topics (schema evolution). */
  canonicalWriterSchemas?: readonly AvroSchemaInput[];
  /** Older OrderState writer schemas still found on the topics. */
  stateWriterSchemas?: readonly AvroSchemaInput[];
}

/** A new OrderSerdes: loads and parses both .avsc files and computes their fingerprints. */
export function createOrderSerdes(options: OrderSerdesOptions = {}): OrderSerdes {
  const canonicalType = createAvroType(readSchema('canonicalOrder'));
  const stateType = createAvroType(readSchema('orderState'));
  const markerType = createAvroType(readSchema('snapshotMarker'));
  const serde = createSingleObjectSerde([canonicalType, stateType, markerType]);
  for (const w of options.canonicalWriterSchemas ?? []) serde.addWriterSchema(w, canonicalType);
  for (const w of options.stateWriterSchemas ?? []) serde.addWriterSchema(w, stateType);
  const canonical = serde.codec<CanonicalOrder>(canonicalType);
  const state = serde.codec<OrderState>(stateType);
  const marker = serde.codec<SnapshotMarker>(markerType);
  return {
    markerType,
    markerFingerprint: marker.fingerprint,
    encodeMarker: (m) => marker.encode(m),
    decodeCanonicalTopic: (buf) => {
      const { type, value } = serde.decode(buf);
      if (type === markerType) return { kind: 'snapshot', marker: value as SnapshotMarker };
      if (type === canonicalType) return { kind: 'order', order: value as CanonicalOrder };
      throw new AppError('AVRO_UNKNOWN_FINGERPRINT', `a ${typeLabel(type)} record does not belong on the canonical topic`);
    },
    serde,
    canonicalType,
    stateType,
    canonical,
    state,
    canonicalFingerprint: canonical.fingerprint,
    stateFingerprint: state.fingerprint,
    encodeCanonical: (order) => canonical.encode(order),
    decodeCanonical: (buf) => canonical.decode(buf),
    encodeState: (s) => state.encode(s),
    decodeState: (buf) => state.decode(buf),
  };
}

let shared: OrderSerdes | undefined;

/**
 * The process-wide OrderSerdes with the current schemas only, created on first use (the .avsc files are read once).
 * Use {@link createOrderSerdes} to register older writer schemas.
 */
export function orderSerdes(): OrderSerdes {
  shared ??= createOrderSerdes();
  return shared;
}
