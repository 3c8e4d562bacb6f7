/**
 * orderstream's own Avro values: CanonicalOrder (orders.canonical.v1) and OrderState (orders.state.v1), in
 * single-object encoding or, with a schema registry, the Confluent wire format; read from the .avsc files in
 * @orderstream/schemas (the source of truth).
 *
 * Every decode tells the two encodings apart by the first byte: C3 (single-object, writer found by fingerprint)
 * or 00 (Confluent, writer found by schema id in the registry's cache). A topic can therefore move from one
 * encoding to the other without a stop: readers read both.
 */
import type { Type } from 'avsc';
import { readSchema, type CanonicalOrder, type OrderState, type SnapshotMarker } from '@orderstream/schemas';
import { AppError } from '@orderstream/kit';
import { createAvroType, typeLabel } from './avro-type.js';
import type { AvroSchemaInput } from './fingerprint.js';
import { createSingleObjectSerde, type SingleObjectCodec, type SingleObjectSerde } from './single-object.js';
import { ConfluentWriter, noRegistryError, SchemaIdCache, type DecodedById, type SchemaIdSource } from './confluent.js';

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
  /** A value of orders.canonical.v1: an order update, or a snapshot marker (told apart by fingerprint or schema id). */
  decodeCanonicalTopic(buf: Buffer): CanonicalTopicValue;
  /** What the encode* functions write: 'single-object' (C3 01 + fingerprint) or 'confluent' (00 + schema id). */
  readonly encoding: 'single-object' | 'confluent';
  /** In 'confluent' encoding, the registry ids written; undefined otherwise. */
  readonly schemaIds: { canonical: number; state: number; marker: number } | undefined;
  /**
   * Fetches from the registry the writer schema of every Confluent value among `values` whose id is not known yet,
   * so that decoding them (synchronous) succeeds. Readers call it per batch; a no-op without a registry.
   */
  prefetch(values: Iterable<Buffer | null | undefined>): Promise<void>;
  /**
   * Lets this serdes decode Confluent values, fetching writer schemas by id from `source` (a registry client);
   * they are resolved to this serdes's own reader types.
   */
  useSchemaRegistry(source: SchemaIdSource): SchemaIdCache;
  /** The cache of registry schemas this serdes decodes Confluent values with, if any. */
  readonly schemaIdCache: SchemaIdCache | undefined;
}

export type CanonicalTopicValue = { kind: 'order'; order: CanonicalOrder } | { kind: 'snapshot'; marker: SnapshotMarker };

export interface OrderSerdesOptions {
  /** Older CanonicalOrder writer schemas still found on the topics (schema evolution). */
  canonicalWriterSchemas?: readonly AvroSchemaInput[];
  /** Older OrderState writer schemas still found on the topics. */
  stateWriterSchemas?: readonly AvroSchemaInput[];
  /** Decode Confluent wire-format values with writer schemas from this registry (also settable with useSchemaRegistry). */
  schemaRegistry?: SchemaIdSource;
  /** Reader (and writer) schemas other than the .avsc files: schema evolution tests. */
  schemas?: { canonicalOrder?: AvroSchemaInput; orderState?: AvroSchemaInput; snapshotMarker?: AvroSchemaInput };
  /** Encode in the Confluent wire format with these registry ids (registry mode); default single-object. */
  confluentIds?: { canonical: number; state: number; marker: number };
}

/** A new OrderSerdes: loads and parses both .avsc files and computes their fingerprints. */
export function createOrderSerdes(options: OrderSerdesOptions = {}): OrderSerdes {
  const canonicalType = createAvroType(options.schemas?.canonicalOrder ?? readSchema('canonicalOrder'));
  const stateType = createAvroType(options.schemas?.orderState ?? readSchema('orderState'));
  const markerType = createAvroType(options.schemas?.snapshotMarker ?? readSchema('snapshotMarker'));
  const serde = createSingleObjectSerde([canonicalType, stateType, markerType]);
  for (const w of options.canonicalWriterSchemas ?? []) serde.addWriterSchema(w, canonicalType);
  for (const w of options.stateWriterSchemas ?? []) serde.addWriterSchema(w, stateType);
  const canonical = serde.codec<CanonicalOrder>(canonicalType);
  const state = serde.codec<OrderState>(stateType);
  const marker = serde.codec<SnapshotMarker>(markerType);
  const readers = [canonicalType, stateType, markerType];
  let cache = options.schemaRegistry && new SchemaIdCache(readers, options.schemaRegistry);
  const byId = (buf: Buffer): DecodedById => {
    if (cache === undefined) throw noRegistryError(buf);
    return cache.decode(buf);
  };
  const wrongType = (type: Type, wanted: string) =>
    new AppError('AVRO_UNKNOWN_FINGERPRINT', `a ${typeLabel(type)} record where ${wanted} was expected`);
  const ids = options.confluentIds;
  const encodeError = (type: Type) => (value: unknown, cause: unknown) => {
    try {
      serde.encode(type, value); // the single-object path names every invalid field
    } catch (e) {
      return e as Error;
    }
    return new AppError('AVRO_ENCODE_FAILED', `cannot encode ${typeLabel(type)}: ${String(cause)}`, { cause });
  };
  const writers = ids && {
    canonical: new ConfluentWriter<CanonicalOrder>(canonicalType, ids.canonical, encodeError(canonicalType)),
    state: new ConfluentWriter<OrderState>(stateType, ids.state, encodeError(stateType)),
    marker: new ConfluentWriter<SnapshotMarker>(markerType, ids.marker, encodeError(markerType)),
  };
  return {
    markerType,
    markerFingerprint: marker.fingerprint,
    encodeMarker: writers ? (m) => writers.marker.encode(m) : (m) => marker.encode(m),
    decodeCanonicalTopic: (buf) => {
      const { type, value } = buf[0] === 0x00 ? byId(buf) : serde.decode(buf);
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
    encodeCanonical: writers ? (order) => writers.canonical.encode(order) : (order) => canonical.encode(order),
    decodeCanonical: (buf) => {
      if (buf[0] !== 0x00) return canonical.decode(buf);
      const d = byId(buf);
      if (d.type !== canonicalType) throw wrongType(d.type, typeLabel(canonicalType));
      return d.value as CanonicalOrder;
    },
    encodeState: writers ? (s) => writers.state.encode(s) : (s) => state.encode(s),
    decodeState: (buf) => {
      if (buf[0] !== 0x00) return state.decode(buf);
      const d = byId(buf);
      if (d.type !== stateType) throw wrongType(d.type, typeLabel(stateType));
      return d.value as OrderState;
    },
    encoding: ids ? 'confluent' : 'single-object',
    schemaIds: ids ? { ...ids } : undefined,
    prefetch: (values) => cache?.prefetch(values) ?? Promise.resolve(),
    useSchemaRegistry: (source) => {
      cache = new SchemaIdCache(readers, source);
      return cache;
    },
    get schemaIdCache() {
      return cache;
    },
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
