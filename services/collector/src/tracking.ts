import { z } from 'zod';
import { errorMessage, type Logger } from '@orderstream/kit';
import { tailTopic, type InRecord, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { TrackRef, VenueClient } from '@orderstream/venues';
import type { StateView } from './state-view.js';

/**
 * A request on orders.track.v1 (JSON): "poll this order". Key: venue|account|symbol|orderId (or clientOrderId).
 *   {"venue":"binance-usdm","account":"main","symbol":"BTCUSDT","orderId":"8389765519582654911"}
 */
export const trackRequestSchema = z
  .object({
    venue: z.string().min(1),
    account: z.string().min(1),
    symbol: z.string().min(1),
    orderId: z.string().regex(/^\d+$/, { error: 'must be a decimal digit string (int64 ids stay exact as text)' }).optional(),
    clientOrderId: z.string().min(1).optional(),
  })
  .refine((r) => r.orderId !== undefined || r.clientOrderId !== undefined, { error: 'needs orderId or clientOrderId' });

export type TrackRequest = z.infer<typeof trackRequestSchema>;

interface Tracked {
  venue: string;
  account: string;
  client: VenueClient & { track(ref: TrackRef): void };
}

export interface TrackingDeps {
  kafka: Kafka;
  topics: TopicNames;
  accounts: { account: string; client: VenueClient }[];
  /** the collector's view of orders.state.v1, already loaded */
  view: StateView;
  logger: Logger;
}

export interface TrackingStats {
  fromState: number;
  fromTopic: number;
  rejected: number;
}

/**
 * Feeds polled venues (clients with `track()`) the orders to poll: every live order of theirs in
 * orders.state.v1 when the collector starts (so a restart loses no order), then every request that arrives on
 * orders.track.v1. Orders listed in a client's own configuration are the client's business.
 */
export async function startTracking(deps: TrackingDeps): Promise<{ stop(): Promise<void>; stats(): TrackingStats }> {
  const stats: TrackingStats = { fromState: 0, fromTopic: 0, rejected: 0 };
  const targets = new Map<string, Tracked>();
  for (const { account, client } of deps.accounts) {
    if (client.track) targets.set(`${client.venue}|${account}`, { venue: client.venue, account, client: client as Tracked['client'] });
  }
  if (targets.size === 0) return { stop: async () => undefined, stats: () => ({ ...stats }) };

  /** A client refuses a malformed ref (RangeError); one bad request must not stop the others. */
  const track = (target: Tracked, ref: TrackRef): boolean => {
    try {
      target.client.track(ref);
      return true;
    } catch (error) {
      deps.logger.warn({ venue: target.venue, account: target.account, symbol: ref.symbol, err: errorMessage(error) }, 'track request refused by the venue client');
      return false;
    }
  };

  for (const target of targets.values()) {
    for (const o of deps.view.suspects(target.venue, target.account)) {
      if (o.status === 'CLOSED_UNKNOWN') continue;
      track(target, { symbol: o.symbol, orderId: o.orderId, ...(o.clientOrderId ? { clientOrderId: o.clientOrderId } : {}), origin: 'state' });
      stats.fromState++;
    }
  }
  deps.logger.info({ orders: stats.fromState }, 'tracking live orders found in the state topic');

  const onRequest = (r: InRecord) => {
    if (!r.value) return; // a tombstone withdraws nothing: polling stops by itself at a terminal status
    let request: TrackRequest;
    try {
      request = trackRequestSchema.parse(JSON.parse(r.value.toString('utf8')));
    } catch (error) {
      stats.rejected++;
      deps.logger.warn({ partition: r.partition, offset: r.offset, err: errorMessage(error) }, 'ignored a malformed track request');
      return;
    }
    const target = targets.get(`${request.venue}|${request.account}`);
    if (!target) {
      stats.rejected++;
      deps.logger.warn({ venue: request.venue, account: request.account }, 'track request for an account this collector does not poll');
      return;
    }
    const ok = track(target, {
      symbol: request.symbol,
      ...(request.orderId ? { orderId: request.orderId } : {}),
      ...(request.clientOrderId ? { clientOrderId: request.clientOrderId } : {}),
      origin: 'track-topic',
    });
    if (ok) stats.fromTopic++;
    else stats.rejected++;
  };
  // Read from the beginning on every start: the topic is compacted, and requests for orders that are already
  // terminal cost one poll each.
  const tail = await tailTopic(deps.kafka, deps.topics.track, { fromBeginning: true, onRecords: (records) => records.forEach(onRequest) });
  return { stop: () => tail.stop(), stats: () => ({ ...stats }) };
}
