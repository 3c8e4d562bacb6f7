import { AppError, FrameError, errorMessage, toEpochMicros, type ErrorCode } from '@orderstream/kit';
import { deadLetter, decodeRawHeaders, type InRecord, type OutRecord, type TopicNames } from '@orderstream/kafka';
import { orderKeyOf, type CanonicalOrder, type SnapshotMarker } from '@orderstream/schemas';
import { parseRestRequest, reconciledSnapshotOf, safeText, type MapContext, type ReferenceData, type VenueId, type VenueMapper } from '@orderstream/venues';
import { guardCanonicalOrder, isAdmissibleOrderId } from './guard.js';

/** What became of one raw frame. */
export type NormalizeOutcome =
  | { kind: 'orders'; orders: CanonicalOrder[]; snapshot?: true }
  | { kind: 'skipped'; what: string }
  | { kind: 'dlq'; code: ErrorCode; message: string };

export type MapperLookup = (venue: string, apiVersion: string) => VenueMapper | undefined;

/** Longest dead-letter message (characters); longer ones are cut (dlq-message header, logs, the CLI's answer). */
export const MAX_DLQ_MESSAGE_CHARS = 1000;

/**
 * One frame's text → outcome. The single code path shared by the normalizer service and the offline
 * `orderstream normalize` command. Never throws for bad input: it says why instead. Every canonical order a mapper
 * returns must pass the input limits (guard.ts) or the frame is a dead letter; a dead letter's message is one line
 * of well-formed text of at most MAX_DLQ_MESSAGE_CHARS.
 */
export function normalizeFrame(mapper: VenueMapper, text: string, ctx: MapContext): NormalizeOutcome {
  try {
    const result = mapper.map(text, ctx);
    if (result.kind === 'skipped') return { kind: 'skipped', what: result.what };
    const orders = result.orders;
    for (let i = 0; i < orders.length; i++) guardCanonicalOrder(orders[i] as CanonicalOrder, ctx, i, orders.length);
    return result.snapshot ? { kind: 'orders', orders, snapshot: true } : { kind: 'orders', orders };
  } catch (error) {
    if (error instanceof AppError) return { kind: 'dlq', code: error.code, message: safeText(error.message, MAX_DLQ_MESSAGE_CHARS) };
    // A mapper bug on odd input is still this frame's problem, not a reason to stop the service.
    return { kind: 'dlq', code: 'FRAME_UNMAPPABLE', message: safeText(`mapper failed: ${errorMessage(error)}`, MAX_DLQ_MESSAGE_CHARS) };
  }
}

export interface NormalizeDeps {
  lookup: MapperLookup;
  reference: ReferenceData;
  topics: TopicNames;
  encode: (order: CanonicalOrder) => Buffer;
  encodeMarker: (marker: SnapshotMarker) => Buffer;
  /** partition count of the canonical topic: a snapshot marker goes to every partition */
  canonicalPartitions: number;
}

export interface RecordResult {
  /** `session`: a session event; `snapshot` set when it was a completed reconciliation (markers produced) */
  outcome: NormalizeOutcome | { kind: 'session'; snapshot?: true };
  outputs: OutRecord[];
}

/** One raw record → the records to produce (canonical orders, or one dead letter). */
export function normalizeRecord(record: InRecord, deps: NormalizeDeps): RecordResult {
  const source = { topic: record.topic, partition: record.partition, offset: Number(record.offset) };
  let outcome: NormalizeOutcome;
  let ctx: MapContext | undefined;
  try {
    const h = decodeRawHeaders(record.headers);
    if (h.frameKind === 'session') {
      // A completed reconciliation carries the account's open orders as of its request: a snapshot (DESIGN.md §10).
      const snapshot = record.value ? reconciledSnapshotOf(record.value.toString('utf8')) : undefined;
      if (!snapshot) return { outcome: { kind: 'session' }, outputs: [] };
      // ids the input limits refuse cannot be in the state; listed, they could only collide with another order's key
      const keys = snapshot.orderIds.filter(isAdmissibleOrderId).map((id) => orderKeyOf(h.venue, h.account, id));
      return { outcome: { kind: 'session', snapshot: true }, outputs: snapshotMarkers(h.venue, h.account, keys, snapshot.asOf, source, deps) };
    }
    if (h.frameKind === 'rest' && (h.restStatus as number) >= 300) {
      // The venue's refusal (rate limit, server error) is kept raw for the record; it carries no order.
      return { outcome: { kind: 'skipped', what: `rest answer HTTP ${h.restStatus}` }, outputs: [] };
    }
    const mapper = deps.lookup(h.venue, h.apiVersion);
    if (!mapper) throw new FrameError('VENUE_UNKNOWN', `no mapper for venue ${JSON.stringify(h.venue)} api-version ${JSON.stringify(h.apiVersion)}`);
    ctx = {
      venue: h.venue as VenueId,
      account: h.account,
      receivedAt: toEpochMicros(h.receivedAt, 'ns') ?? 0,
      source,
      reference: deps.reference,
    };
    if (h.frameKind === 'rest') {
      let request;
      try {
        request = parseRestRequest(h.restRequest as string);
      } catch (error) {
        throw new FrameError('RAW_HEADERS_MISSING', errorMessage(error));
      }
      ctx.rest = { ...request, status: h.restStatus as number };
    }
    outcome = normalizeFrame(mapper, record.value ? record.value.toString('utf8') : '', ctx);
  } catch (error) {
    const code: ErrorCode = error instanceof AppError ? error.code : 'INTERNAL';
    outcome = { kind: 'dlq', code, message: safeText(errorMessage(error), MAX_DLQ_MESSAGE_CHARS) };
  }

  if (outcome.kind === 'orders') {
    const orders = outcome;
    try {
      const outputs: OutRecord[] = orders.orders.map((order) => ({ topic: deps.topics.canonical, key: order.orderKey, value: deps.encode(order) }));
      if (orders.snapshot && ctx) outputs.push(...snapshotMarkers(ctx.venue, ctx.account, orders.orders.map((o) => o.orderKey), ctx.receivedAt, source, deps));
      return { outcome, outputs };
    } catch (error) {
      // The guard admits only encodable orders; should one still fail to encode, it is this frame's dead letter.
      outcome = { kind: 'dlq', code: error instanceof AppError ? error.code : 'AVRO_ENCODE_FAILED', message: safeText(errorMessage(error), MAX_DLQ_MESSAGE_CHARS) };
    }
  }
  if (outcome.kind === 'dlq') return { outcome, outputs: [deadLetter(record, outcome.code, outcome.message, deps.topics.dlq)] };
  return { outcome, outputs: [] };
}

/**
 * After a complete snapshot's orders (a venue's snapshot frame, or a reconciliation's `reconciled` event), one
 * marker per canonical partition (each order-state instance owns some partitions and must learn of the snapshot).
 * Produced in order with the records before it, so on each partition it follows the snapshot's orders.
 * `asOf` (epoch µs): orders last heard of at or after it are never closed by this snapshot.
 */
function snapshotMarkers(venue: string, account: string, orderKeys: string[], asOf: number, source: SnapshotMarker['source'], deps: NormalizeDeps): OutRecord[] {
  const value = deps.encodeMarker({ venue, account, orderKeys, receivedAt: asOf, source });
  const key = `${venue}|${account}`;
  return Array.from({ length: deps.canonicalPartitions }, (_, partition) => ({ topic: deps.topics.canonical, key, value, partition }));
}
