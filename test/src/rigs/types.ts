import type { CanonicalOrder } from '@orderstream/schemas';
import type { ReferenceData, RestFaults, VenueClient, VenueId } from '@orderstream/venues';

/** One venue in an end-to-end run: its simulator, a collector client for it, and what the state must become. */
export interface VenueRig {
  venue: VenueId;
  account: string;
  client: VenueClient;
  reference: ReferenceData;
  /** resolves once the client is subscribed (or connected, for polled venues) */
  ready(): Promise<void>;
  /** polled venues: the requests a downstream system writes to orders.track.v1 so the collector polls them */
  trackRequests?(): { venue: string; account: string; symbol: string; orderId: string }[];
  /** plays the scripted lifecycles, `intervalMs` between frames; resolves when every final state was sent */
  play(intervalMs?: number): Promise<void>;
  /**
   * Optional second act, after the state has converged once: something the world does (a disconnect while
   * orders finish). Resolves with how many orders it affected.
   */
  disrupt?(): Promise<number>;
  /** per orderKey, the canonical fields orders.state.v1 must hold at the end (the simulator's truth) */
  expected(): Map<string, Partial<CanonicalOrder>>;
  stop(): Promise<void>;
}

/** The fields a user checks on every venue: where the order stands and what it cost, exactly. */
export const CHECKED_FIELDS = [
  'status', 'venueStatus', 'side', 'symbol', 'price', 'quantity', 'venueQuantity', 'quoteQuantity',
  'filledQuantity', 'venueFilledQuantity', 'filledQuoteQuantity', 'averagePrice', 'fee', 'feeAsset', 'createdAt',
] as const satisfies readonly (keyof CanonicalOrder)[];

export function pickChecked(o: Partial<CanonicalOrder>): Partial<CanonicalOrder> {
  const out: Record<string, unknown> = {};
  for (const k of CHECKED_FIELDS) if (k in o) out[k] = o[k];
  return out as Partial<CanonicalOrder>;
}

/**
 * One venue in a reconciliation run ("exact state after every gap"): a simulator that keeps living while no client
 * is connected (orders fill, cancel and expire; their pushes reach nobody), serves the venue's REST endpoints, and
 * can fault them.
 */
export interface GapRig {
  venue: VenueId;
  account: string;
  client: VenueClient;
  /** the same client's `config` as the collector's accounts file would hold it (for a collector process) */
  accountConfig: Record<string, unknown>;
  reference: ReferenceData;
  /** resolves once a client is subscribed (or connected, for polled venues) */
  ready(): Promise<void>;
  /**
   * Plays `count` new lifecycles (ids never used before in this rig), `intervalMs` between frames, with fills,
   * cancels and (where the venue has them) expiries. Resolves when every order reached its final state at the venue.
   */
  play(count: number, options: { intervalMs: number; seed: number }): Promise<void>;
  /** a network gap: drop every connection and refuse new ones (sim.interrupt()) */
  interrupt(): void;
  /** end of the gap (sim.resume()) */
  resume(): void;
  /** ids of the orders live at the venue now */
  liveOrderIds(): string[];
  /** the simulator's REST fault knobs (sim.restFaults) */
  restFaults: RestFaults;
  /** per orderKey, the canonical fields orders.state.v1 must hold: the venue's truth, orders the client never saw included */
  expected(): Map<string, Partial<CanonicalOrder>>;
  /** orderKey of a venue order id */
  orderKeyOf(orderId: string): string;
  stop(): Promise<void>;
}
