import { FrameError } from '@orderstream/kit';
import type { CanonicalOrder, Source } from '@orderstream/schemas';
import { parseRestRequest } from '../reconcile.js';
import { EMPTY_REFERENCE } from '../reference.js';
import type { MapContext, RestContext, VenueId, VenueMapper } from '../types.js';

/** The raw record a test context names unless told otherwise: the first record of orders.raw.v1. */
export const TEST_SOURCE: Source = { topic: 'orders.raw.v1', partition: 0, offset: 0 };

/**
 * A mapper context for tests: account `acc-1`, received at 1 µs, {@link TEST_SOURCE}, no reference data, a frame of
 * the venue's socket (no `rest`). `over` replaces any of these; tests that assert the account, source or receive time
 * of what a mapper produced pass the values they assert.
 */
export function testMapContext(venue: VenueId, over: Partial<Omit<MapContext, 'venue'>> = {}): MapContext {
  return { venue, account: 'acc-1', receivedAt: 1, source: TEST_SOURCE, reference: EMPTY_REFERENCE, ...over };
}

/**
 * A mapper context for a REST answer: `request` is the raw `rest-request` header ("GET /path?a=1") or the parsed
 * request, `status` the HTTP status of the answer.
 */
export function testRestContext(
  venue: VenueId,
  request: string | Omit<RestContext, 'status'>,
  status = 200,
  over: Partial<Omit<MapContext, 'venue' | 'rest'>> = {},
): MapContext {
  const rest: RestContext = { ...(typeof request === 'string' ? parseRestRequest(request) : request), status };
  return { ...testMapContext(venue, over), rest };
}

/** Maps a frame that must carry exactly one order and returns it (throws, failing the test, otherwise). */
export function mapOneOrder(mapper: VenueMapper, text: string, ctx: MapContext): CanonicalOrder {
  const r = mapper.map(text, ctx);
  if (r.kind !== 'orders') throw new Error(`expected orders, got skipped: ${r.what}`);
  if (r.orders.length !== 1) throw new Error(`expected one order, got ${r.orders.length}`);
  return r.orders[0] as CanonicalOrder;
}

/** Maps a frame the mapper must reject and returns its FrameError (throws, failing the test, otherwise). */
export function mapFrameError(mapper: VenueMapper, text: string, ctx: MapContext): FrameError {
  try {
    mapper.map(text, ctx);
  } catch (error) {
    if (!(error instanceof FrameError)) throw new Error(`expected a FrameError, got ${String(error)}`, { cause: error });
    return error;
  }
  throw new Error('expected the mapper to throw');
}
