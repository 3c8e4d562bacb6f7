import { ORDER_STATUSES, type OrderState, type OrderStatus } from '@orderstream/schemas';
import { MetricsRegistry } from '@orderstream/kit';

// The registry is shared by every service (libs/kit/src/metrics.ts); re-exported so order-state's imports stay.
export {
  Counter, escapeHelp, escapeLabelValue, formatValue, Gauge, Histogram, MetricsRegistry, PROMETHEUS_CONTENT_TYPE,
  type HistogramDefinition, type LabelValues, type MetricDefinition, type MetricType, type Reading,
} from '@orderstream/kit';

// ---------------------------------------------------------------------------------------------------------------
// order-state's own metrics

/** The running totals of order-state (the shape of `OrderStateApp.stats()`). */
export interface OrderStateCounts {
  /** orders loaded from orders.state.v1 at start */
  restored: number;
  /** canonical records consumed, dead letters included */
  updates: number;
  /** state records produced */
  changes: number;
  /** updates that changed nothing (duplicates, stale updates) */
  unchanged: number;
  /** canonical records sent to the dead-letter topic */
  deadLetters: number;
  /** orders in the store now */
  orders: number;
}

/** What order-state's metrics are read from, at every scrape. */
export interface OrderStateMetricsProvider {
  stats(): OrderStateCounts;
  ordersByStatus(): Record<OrderStatus, number>;
  ordersByVenue(): Record<string, number>;
  ready(): boolean;
  /** records between the group's committed offset and the log end, per partition of orders.canonical.v1 */
  lagByPartition?(): Record<number, number>;
}

/** The `route` label of the HTTP request histogram. */
export const QUERY_ROUTES = ['order', 'orders', 'healthz', 'readyz', 'metrics', 'blotter', 'events', 'unknown'] as const;
export type QueryRoute = (typeof QUERY_ROUTES)[number];

/** Bucket bounds (seconds) of `orderstream_order_state_http_request_duration_seconds`. */
export const HTTP_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

export interface OrderStateMetrics {
  readonly registry: MetricsRegistry;
  /** The exposition text (serve with PROMETHEUS_CONTENT_TYPE). */
  render(): string;
  /** Records one answered HTTP request; pass it to the query server as `onRequest`. */
  observeRequest(route: QueryRoute, status: number, seconds: number): void;
  /**
   * Records the end-to-end latency of each update of a committed batch (now less its receivedAt); pass it to
   * createOrderStateApp as `onCommitted`.
   */
  observeCommitted(receivedAtMicros: readonly number[]): void;
}

/** Bucket bounds (seconds) of `orderstream_order_state_end_to_end_seconds`. */
export const END_TO_END_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

const P = 'orderstream_order_state';

/** Defines order-state's metrics once; every render reads the provider. */
export function createOrderStateMetrics(provider: OrderStateMetricsProvider): OrderStateMetrics {
  const registry = new MetricsRegistry();
  registry.gaugeFunc({ name: `${P}_ready`, help: '1 once the store is restored from orders.state.v1 and the consumer is running, else 0.' }, () =>
    provider.ready() ? 1 : 0,
  );
  registry.gaugeFunc({ name: `${P}_restored_orders`, help: 'Orders loaded from orders.state.v1 when the service started.' }, () => provider.stats().restored);
  registry.counterFunc({ name: `${P}_updates_total`, help: 'Records consumed from orders.canonical.v1, dead letters included.' }, () => provider.stats().updates);
  registry.counterFunc({ name: `${P}_changes_total`, help: 'State records produced to orders.state.v1 (updates and snapshot closes that changed an order).' }, () =>
    provider.stats().changes,
  );
  registry.counterFunc({ name: `${P}_unchanged_total`, help: 'Canonical updates that changed nothing (duplicates, late older updates).' }, () =>
    provider.stats().unchanged,
  );
  registry.counterFunc({ name: `${P}_dead_letters_total`, help: 'Canonical records that could not be decoded, sent to orders.dlq.v1.' }, () =>
    provider.stats().deadLetters,
  );
  registry.gaugeFunc({ name: `${P}_orders`, help: 'Orders in the store.' }, () => provider.stats().orders);
  registry.gaugeFunc({ name: `${P}_orders_by_status`, help: 'Orders in the store per status (every status, 0 included).', labelNames: ['status'] }, () => {
    const counts = provider.ordersByStatus();
    return ORDER_STATUSES.map((status) => [{ status }, counts[status] ?? 0] as const);
  });
  registry.gaugeFunc({ name: `${P}_orders_by_venue`, help: 'Orders in the store per venue.', labelNames: ['venue'] }, () => {
    const counts = provider.ordersByVenue();
    return Object.keys(counts)
      .sort()
      .map((venue) => [{ venue }, counts[venue] ?? 0] as const);
  });
  const { lagByPartition } = provider;
  if (lagByPartition) {
    registry.gaugeFunc(
      { name: `${P}_consumer_lag`, help: 'Records of orders.canonical.v1 not yet folded, per partition this instance consumes.', labelNames: ['partition'] },
      () => {
        const lag = lagByPartition.call(provider);
        return Object.keys(lag)
          .map(Number)
          .sort((a, b) => a - b)
          .map((p) => [{ partition: String(p) }, lag[p] ?? 0] as const);
      },
    );
  }
  const requests = registry.histogram({
    name: `${P}_http_request_duration_seconds`,
    help: 'Query API requests by route and status code, and the time taken to answer them.',
    labelNames: ['route', 'code'],
    buckets: HTTP_DURATION_BUCKETS,
  });
  const endToEnd = registry.histogram({
    name: `${P}_end_to_end_seconds`,
    help: 'From the collector receiving a frame (received-at) to order-state committing the update it became (state written, offsets committed).',
    buckets: END_TO_END_BUCKETS,
  });
  return {
    registry,
    render: () => registry.render(),
    observeRequest: (route, status, seconds) => requests.observe({ route, code: String(status) }, seconds),
    observeCommitted: (receivedAtMicros) => {
      const now = Date.now() * 1000;
      for (const r of receivedAtMicros) endToEnd.observe(undefined, Math.max(0, now - r) / 1e6);
    },
  };
}

/** Counts orders per status (every status present, 0 included) and per venue, in one pass. */
export function tallyOrders(states: Iterable<OrderState>): { byStatus: Record<OrderStatus, number>; byVenue: Record<string, number> } {
  const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
  const byVenue = Object.create(null) as Record<string, number>; // no prototype: a venue may be called anything
  for (const { order } of states) {
    byStatus[order.status]++;
    byVenue[order.venue] = (byVenue[order.venue] ?? 0) + 1;
  }
  return { byStatus, byVenue };
}
