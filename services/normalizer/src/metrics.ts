import { MetricsRegistry } from '@orderstream/kit';
import type { FrameOutcome, NormalizerStats } from './app.js';

/**
 * The normalizer's Prometheus metrics (docs/metrics.md), on the shared registry of libs/kit. Totals are read from
 * the app's stats at each scrape; dead letters by code and the per-frame time are observed as frames are
 * normalized (`observeFrame`, passed to createNormalizerApp). Counted when a batch is processed: a batch whose
 * transaction aborts and is consumed again counts again (the topics themselves hold each record once).
 */

const P = 'orderstream_normalizer';

/** Bucket bounds (seconds) of the per-frame normalize time: mapping a frame takes microseconds. */
export const FRAME_SECONDS_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05] as const;

/** Bucket bounds (seconds) of the latency from received-at to normalized. */
export const FRAME_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

export interface NormalizerMetricsSource {
  stats(): NormalizerStats;
  ready(): boolean;
  /** records of orders.raw.v1 not yet normalized, per partition (pollConsumerLag) */
  lagByPartition?(): Record<number, number>;
}

export interface NormalizerMetrics {
  readonly registry: MetricsRegistry;
  /** pass as createNormalizerApp's `observeFrame` */
  observeFrame(outcome: FrameOutcome, seconds: number, dlqCode?: string, ageSeconds?: number): void;
  render(): string;
}

export function createNormalizerMetrics(source: NormalizerMetricsSource): NormalizerMetrics {
  const registry = new MetricsRegistry();
  registry.gaugeFunc({ name: `${P}_ready`, help: '1 while the consumer runs, else 0.' }, () => (source.ready() ? 1 : 0));
  registry.counterFunc({ name: `${P}_frames_total`, help: 'Raw records consumed from orders.raw.v1 (data, rest and session frames).' }, () => source.stats().frames);
  registry.counterFunc({ name: `${P}_canonical_orders_total`, help: 'Canonical order records produced to orders.canonical.v1.' }, () => source.stats().orders);
  registry.counterFunc({ name: `${P}_skipped_total`, help: 'Frames recognised and skipped (acks, pongs, venue error replies).' }, () => source.stats().skipped);
  registry.counterFunc({ name: `${P}_session_events_total`, help: 'Session event records passed through.' }, () => source.stats().sessionEvents);
  registry.counterFunc({ name: `${P}_dead_letters_total`, help: 'Frames sent to orders.dlq.v1 (all codes).' }, () => source.stats().deadLetters);
  const byCode = registry.counter({ name: `${P}_dead_letters_by_code_total`, help: 'Frames sent to orders.dlq.v1, by dlq-code (docs/errors.md).', labelNames: ['code'] });
  const seconds = registry.histogram({
    name: `${P}_frame_seconds`,
    help: 'Time to normalize one raw frame (parse, validate, map, encode), by outcome.',
    labelNames: ['outcome'],
    buckets: FRAME_SECONDS_BUCKETS,
  });
  const age = registry.histogram({
    name: `${P}_frame_latency_seconds`,
    help: 'From the collector receiving a frame (received-at header) to the normalizer mapping it: collector, spool, Kafka and queueing.',
    buckets: FRAME_LATENCY_BUCKETS,
  });
  const { lagByPartition } = source;
  if (lagByPartition) {
    registry.gaugeFunc({ name: `${P}_consumer_lag`, help: 'Records of orders.raw.v1 not yet normalized, per partition (refreshed every few seconds).', labelNames: ['partition'] }, () => {
      const lag = lagByPartition.call(source);
      return Object.keys(lag)
        .map(Number)
        .sort((a, b) => a - b)
        .map((p) => [{ partition: String(p) }, lag[p] ?? 0] as const);
    });
  }
  return {
    registry,
    observeFrame(outcome, s, code, ageSeconds) {
      seconds.observe({ outcome }, s);
      if (ageSeconds !== undefined) age.observe(undefined, ageSeconds);
      if (outcome === 'dlq') byCode.inc({ code: code ?? 'UNKNOWN' });
    },
    render: () => registry.render(),
  };
}
