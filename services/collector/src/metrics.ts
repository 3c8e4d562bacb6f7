import { MetricsRegistry } from '@orderstream/kit';
import type { RawFrame, ReconcileStats } from '@orderstream/venues';
import type { CollectorStats } from './app.js';

/**
 * The collector's Prometheus metrics (docs/metrics.md), on the shared registry of libs/kit. Per-account figures
 * are tallied here from every frame the sessions hand over (`onFrame`, passed to createCollectorApp); the rest is
 * read from the app at each scrape.
 */

const P = 'orderstream_collector';
const KINDS: RawFrame['kind'][] = ['data', 'rest', 'session'];

interface AccountTally {
  venue: string;
  account: string;
  frames: Record<RawFrame['kind'], number>;
  bytes: Record<RawFrame['kind'], number>;
  lastDataAtMs: number | undefined;
  up: boolean;
  disconnects: Map<string, number>;
  events: Map<string, number>;
}

/** What the metrics read at each scrape (CollectorApp fits). */
export interface CollectorMetricsSource {
  stats(): CollectorStats;
  /** one per account, in the order of the accounts given to createCollectorMetrics (extra companion sessions ignored) */
  sessions(): readonly { connections: number; reconcileStats: ReconcileStats; paused?: boolean }[];
}

export interface CollectorMetrics {
  readonly registry: MetricsRegistry;
  /** pass as createCollectorApp's `onFrame` */
  onFrame(venue: string, account: string, frame: RawFrame): void;
  /** the collector's sessions have been started (set by main once app.start() resolved) */
  setStarted(started: boolean): void;
  ready(): boolean;
  render(): string;
}

export function createCollectorMetrics(accounts: readonly { venue: string; account: string }[], source: CollectorMetricsSource, now: () => number = Date.now): CollectorMetrics {
  const registry = new MetricsRegistry();
  const tallies = new Map<string, AccountTally>();
  for (const { venue, account } of accounts) {
    tallies.set(`${venue}|${account}`, {
      venue, account, frames: { data: 0, rest: 0, session: 0 }, bytes: { data: 0, rest: 0, session: 0 }, lastDataAtMs: undefined, up: false,
      disconnects: new Map(), events: new Map(),
    });
  }
  let started = false;
  const list = () => [...tallies.values()];
  const labels = (t: AccountTally) => ({ venue: t.venue, account: t.account });
  const perSession = (read: (s: ReturnType<CollectorMetricsSource['sessions']>[number]) => number) => {
    const sessions = source.sessions();
    return list().map((t, i) => [labels(t), sessions[i] ? read(sessions[i]) : 0] as const);
  };

  registry.gaugeFunc({ name: `${P}_ready`, help: '1 once the producer is connected and every session started, else 0.' }, () => (started ? 1 : 0));
  registry.gaugeFunc(
    { name: `${P}_session_up`, help: 'Per venue account: 1 while its socket is connected (a connected session event since the last connecting/disconnected).', labelNames: ['venue', 'account'] },
    () => list().map((t) => [labels(t), t.up ? 1 : 0] as const),
  );
  registry.counterFunc(
    { name: `${P}_frames_total`, help: 'Frames handed over by the venue sessions, by kind: data (socket), rest (reconciliation answers), session (events).', labelNames: ['venue', 'account', 'kind'] },
    () => list().flatMap((t) => KINDS.map((kind) => [{ ...labels(t), kind }, t.frames[kind]] as const)),
  );
  registry.counterFunc(
    { name: `${P}_frame_bytes_total`, help: 'Bytes of those frames, by kind (exact bytes as written to orders.raw.v1).', labelNames: ['venue', 'account', 'kind'] },
    () => list().flatMap((t) => KINDS.map((kind) => [{ ...labels(t), kind }, t.bytes[kind]] as const)),
  );
  registry.counterFunc(
    { name: `${P}_session_events_total`, help: 'Session events by event name (connecting, connected, subscribed, error, disconnected, paused, reconciled, ...).', labelNames: ['venue', 'account', 'event'] },
    () => list().flatMap((t) => [...t.events].sort(([a], [b]) => (a < b ? -1 : 1)).map(([event, n]) => [{ ...labels(t), event }, n] as const)),
  );
  registry.counterFunc(
    { name: `${P}_disconnects_total`, help: 'Disconnects (each followed by a reconnect with backoff) by the reason the session gave.', labelNames: ['venue', 'account', 'reason'] },
    () => list().flatMap((t) => [...t.disconnects].sort(([a], [b]) => (a < b ? -1 : 1)).map(([reason, n]) => [{ ...labels(t), reason }, n] as const)),
  );
  registry.counterFunc({ name: `${P}_connections_total`, help: 'Socket connections opened per venue account.', labelNames: ['venue', 'account'] }, () =>
    perSession((s) => s.connections),
  );
  registry.gaugeFunc(
    { name: `${P}_seconds_since_last_frame`, help: 'Seconds since the account\'s last data frame (absent before the first).', labelNames: ['venue', 'account'] },
    () => list().filter((t) => t.lastDataAtMs !== undefined).map((t) => [labels(t), (now() - (t.lastDataAtMs as number)) / 1000] as const),
  );
  registry.counterFunc({ name: `${P}_published_total`, help: 'Raw records acknowledged by Kafka (acks=all).' }, () => source.stats().published);
  registry.gaugeFunc({ name: `${P}_pending_records`, help: 'Raw records received and not yet acknowledged by Kafka (queue depth).' }, () => source.stats().pending);
  registry.gaugeFunc({ name: `${P}_spool_unpublished_bytes`, help: 'Outage spool: bytes appended and not yet in Kafka (0 without a spool).' }, () => source.stats().spool?.unpublishedBytes ?? 0);
  registry.gaugeFunc({ name: `${P}_spool_disk_bytes`, help: 'Outage spool: bytes on disk.' }, () => source.stats().spool?.diskBytes ?? 0);
  registry.gaugeFunc({ name: `${P}_spool_full`, help: 'Outage spool: 1 while full and the venue sockets are paused.' }, () => (source.stats().spool?.full ? 1 : 0));
  registry.counterFunc({ name: `${P}_spool_full_total`, help: 'Outage spool: times it became full.' }, () => source.stats().spool?.fullCount ?? 0);
  const reconcile = (name: string, help: string, read: (r: ReconcileStats) => number) =>
    registry.counterFunc({ name: `${P}_${name}`, help, labelNames: ['venue', 'account'] }, () => perSession((s) => read(s.reconcileStats)));
  reconcile('reconcile_runs_total', 'Reconciliation runs (at start, after every reconnect, on the interval).', (r) => r.runs);
  reconcile('reconcile_run_failures_total', 'Reconciliation runs that failed (retried with backoff).', (r) => r.runFailures);
  reconcile('rest_calls_total', 'REST calls made by reconciliation.', (r) => r.calls);
  reconcile('rest_retries_total', 'REST calls retried (429/418/5xx, network errors).', (r) => r.retried);
  reconcile('rest_failures_total', 'REST calls that failed after their attempts.', (r) => r.failures);
  reconcile('rate_limit_waits_total', 'Times a REST call waited for the account\'s token bucket.', (r) => r.rateLimitWaits);
  reconcile('rate_limit_wait_seconds_total', 'Seconds REST calls waited for the token bucket.', (r) => r.rateLimitWaitedMs / 1000);
  registry.counterFunc(
    { name: `${P}_tracked_orders_total`, help: 'Orders given to polled venues to poll, by origin (state: live orders at start, topic: orders.track.v1, rejected).', labelNames: ['origin'] },
    () => {
      const t = source.stats().tracking;
      return [[{ origin: 'state' }, t.fromState], [{ origin: 'topic' }, t.fromTopic], [{ origin: 'rejected' }, t.rejected]] as const;
    },
  );

  return {
    registry,
    onFrame(venue, account, frame) {
      const t = tallies.get(`${venue}|${account}`);
      if (!t) return;
      t.frames[frame.kind]++;
      t.bytes[frame.kind] += frame.value.length;
      if (frame.kind === 'data') t.lastDataAtMs = now();
      else if (frame.kind === 'session') noteSessionEvent(t, frame.value);
    },
    setStarted: (value) => void (started = value),
    ready: () => started,
    render: () => registry.render(),
  };
}

/** Up after `connected`, down after `connecting` or `disconnected` (counted by reason); every event counted by name. */
function noteSessionEvent(t: AccountTally, value: Buffer): void {
  let e: { event?: unknown; reason?: unknown };
  try {
    e = JSON.parse(value.toString('utf8')) as typeof e;
  } catch {
    return;
  }
  const name = typeof e.event === 'string' ? e.event : 'unknown';
  t.events.set(name, (t.events.get(name) ?? 0) + 1);
  if (name === 'connected') t.up = true;
  else if (name === 'connecting') t.up = false;
  else if (name === 'disconnected') {
    t.up = false;
    const reason = typeof e.reason === 'string' && e.reason !== '' ? e.reason : 'unknown';
    t.disconnects.set(reason, (t.disconnects.get(reason) ?? 0) + 1);
  }
}
