import type { Logger } from '@orderstream/kit';
import { encodeRawHeaders, rawKey, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { OrderState } from '@orderstream/schemas';
import { DEFAULT_RECONCILE_OPTIONS, VenueSession, type RawFrame, type ReconcileOptions, type ReconcileStats, type VenueClient } from '@orderstream/venues';
import { startTracking, type TrackingStats } from './tracking.js';
import { OrderedPublisher, SpooledPublisher, type PendingRecord, type RawPublisher, type SpoolStats } from './publisher.js';
import { Spool } from './spool.js';
import { StateView } from './state-view.js';

export interface CollectorAccount {
  account: string;
  client: VenueClient;
  /** reconciliation after every gap (default: on, with DEFAULT_RECONCILE_OPTIONS) for clients that have a reconciler */
  reconcile?: ReconcileOptions;
}

export interface CollectorDeps {
  kafka: Kafka;
  topics: TopicNames;
  accounts: CollectorAccount[];
  /** reads orders.state.v1 to resume polling live orders of polled venues (Binance) */
  decodeState: (buf: Buffer) => OrderState;
  logger: Logger;
  progressEveryMs?: number;
  /** outage spool (README "Outage spool"): every record goes through it; without it records wait in memory */
  spool?: { dir: string; maxBytes: number; fsyncIntervalMs?: number };
  /** sees every frame an account's session hands over, before it is queued (metrics: metrics.ts); must not block */
  onFrame?: (venue: string, account: string, frame: RawFrame) => void;
}

export interface CollectorStats {
  /** frames of the venue sockets */
  frames: number;
  /** REST answers of reconciliations */
  restFrames: number;
  sessionEvents: number;
  published: number;
  pending: number;
  connections: number;
  tracking: TrackingStats;
  /** the outage spool's figures, when there is one (full: the venue sockets are paused) */
  spool?: SpoolStats;
  /** summed over the accounts' sessions */
  reconcile: Omit<ReconcileStats, 'lastReport'>;
}

export interface CollectorApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): CollectorStats;
  /** one session per account, in the order of `accounts`, then one per companion socket (reconcileNow(), stats) */
  sessions(): readonly VenueSession[];
}

/** The orders.raw.v1 record of one frame of an account: key `venue|account`, exact bytes, provenance headers. */
export function rawRecordOf(client: Pick<VenueClient, 'venue' | 'apiVersion'>, account: string, frame: RawFrame): PendingRecord {
  return {
    key: rawKey(client.venue, account),
    value: frame.value,
    headers: encodeRawHeaders({
      venue: client.venue,
      account,
      apiVersion: client.apiVersion,
      connId: frame.connId,
      connSeq: frame.connSeq,
      receivedAt: frame.receivedAt,
      frameKind: frame.kind,
      ...(frame.rest ? { restRequest: frame.rest.request, restStatus: frame.rest.status } : {}),
    }),
  };
}

/** Venue sessions → orders.raw.v1: every inbound frame's exact bytes, with provenance headers. */
export function createCollectorApp(deps: CollectorDeps): CollectorApp {
  const { logger } = deps;
  // Idempotent producer: broker-side de-duplication of retried sends, order kept with one request in flight.
  const producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  // Outage spool (issue 10): while it is full every session stops reading its socket, until it drained to half.
  const spooled = deps.spool
    ? new SpooledPublisher(producer, deps.topics.raw, Spool.open({ ...deps.spool, logger }), logger, {
        onFull: (reason) => sessions.forEach((s) => s.pause(reason)),
        onDrained: () => sessions.forEach((s) => s.resume()),
      })
    : undefined;
  const publisher: RawPublisher = spooled ?? new OrderedPublisher(producer, deps.topics.raw, logger);
  let frames = 0;
  let sessionEvents = 0;
  let progress: NodeJS.Timeout | undefined;
  let tracking: Awaited<ReturnType<typeof startTracking>> | undefined;
  let view: StateView | undefined;

  let restFrames = 0;
  // One session per account, then one per companion socket of an account (Binance's user data stream), all under the
  // account's raw key: primaries first, so sessions()[i] is still accounts[i]'s.
  const sockets = [
    ...deps.accounts.map((a) => ({ ...a, socket: 'main' })),
    ...deps.accounts.flatMap((a) => (a.client.companions ?? []).map((client, i) => ({ ...a, client, socket: `companion-${i + 1}` }))),
  ];
  const sessions = sockets.map(({ account, client, reconcile, socket }) => {
    const log = logger.child({ venue: client.venue, account, ...(socket !== 'main' ? { socket } : {}) });
    return new VenueSession({
      client,
      logger: log,
      // Reconciliation reads the state view, which start() loads before any session starts.
      reconcile: {
        suspects: () => view?.suspects(client.venue, account) ?? [],
        lastSeenMs: () => view?.lastSeenMs(client.venue, account),
        options: reconcile ?? DEFAULT_RECONCILE_OPTIONS,
      },
      sink: (frame) => {
        deps.onFrame?.(client.venue, account, frame);
        if (frame.kind === 'data') frames++;
        else if (frame.kind === 'rest') restFrames++;
        else sessionEvents++;
        if (frame.kind === 'session') log.info({ event: frame.value.toString('utf8') }, 'session event');
        publisher.enqueue(rawRecordOf(client, account, frame));
      },
    });
  });

  const stats = (): CollectorStats => ({
    frames,
    restFrames,
    sessionEvents,
    published: publisher.published,
    pending: publisher.pending,
    ...(spooled ? { spool: spooled.stats() } : {}),
    connections: sessions.reduce((n, s) => n + s.connections, 0),
    tracking: tracking?.stats() ?? { fromState: 0, fromTopic: 0, rejected: 0 },
    reconcile: sessions.reduce(
      (sum, s) => {
        const r = s.reconcileStats;
        return {
          runs: sum.runs + r.runs, runFailures: sum.runFailures + r.runFailures, calls: sum.calls + r.calls, retried: sum.retried + r.retried,
          failures: sum.failures + r.failures, rateLimitWaits: sum.rateLimitWaits + r.rateLimitWaits, rateLimitWaitedMs: sum.rateLimitWaitedMs + r.rateLimitWaitedMs,
        };
      },
      { runs: 0, runFailures: 0, calls: 0, retried: 0, failures: 0, rateLimitWaits: 0, rateLimitWaitedMs: 0 },
    ),
  });

  return {
    stats,
    sessions: () => sessions,
    async start() {
      await producer.connect();
      publisher.start();
      view = await StateView.start({
        kafka: deps.kafka, topics: deps.topics, decodeState: deps.decodeState, logger,
        accounts: new Set(deps.accounts.map((a) => `${a.client.venue}|${a.account}`)),
      });
      for (const s of sessions) s.start();
      tracking = await startTracking({ kafka: deps.kafka, topics: deps.topics, accounts: deps.accounts, view, logger });
      logger.info({ accounts: deps.accounts.map((a) => `${a.client.venue}|${a.account}`) }, 'collector started');
      const every = deps.progressEveryMs ?? 30_000;
      if (every > 0) progress = setInterval(() => logger.info(stats(), 'collector progress'), every).unref();
    },
    async stop() {
      clearInterval(progress);
      await tracking?.stop();
      await Promise.all(sessions.map((s) => s.stop()));
      await view?.stop();
      await publisher.drainAndStop();
      await producer.disconnect();
      logger.info(stats(), 'collector stopped');
    },
  };
}
