import type { Logger } from '@orderstream/kit';
import { encodeRawHeaders, rawKey, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { OrderState } from '@orderstream/schemas';
import { VenueSession, type VenueClient } from '@orderstream/venues';
import { startTracking, type TrackingStats } from './tracking.js';
import { OrderedPublisher } from './publisher.js';

export interface CollectorAccount {
  account: string;
  client: VenueClient;
}

export interface CollectorDeps {
  kafka: Kafka;
  topics: TopicNames;
  accounts: CollectorAccount[];
  /** reads orders.state.v1 to resume polling live orders of polled venues (Binance) */
  decodeState: (buf: Buffer) => OrderState;
  logger: Logger;
  progressEveryMs?: number;
}

export interface CollectorStats {
  frames: number;
  sessionEvents: number;
  published: number;
  pending: number;
  connections: number;
  tracking: TrackingStats;
}

export interface CollectorApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): CollectorStats;
}

/** Venue sessions → orders.raw.v1: every inbound frame's exact bytes, with provenance headers. */
export function createCollectorApp(deps: CollectorDeps): CollectorApp {
  const { logger } = deps;
  // Idempotent producer: broker-side de-duplication of retried sends, order kept with one request in flight.
  const producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const publisher = new OrderedPublisher(producer, deps.topics.raw, logger);
  let frames = 0;
  let sessionEvents = 0;
  let progress: NodeJS.Timeout | undefined;
  let tracking: Awaited<ReturnType<typeof startTracking>> | undefined;

  const sessions = deps.accounts.map(({ account, client }) => {
    const log = logger.child({ venue: client.venue, account });
    const key = rawKey(client.venue, account);
    return new VenueSession({
      client,
      logger: log,
      sink: (frame) => {
        if (frame.kind === 'data') frames++;
        else sessionEvents++;
        if (frame.kind === 'session') log.info({ event: frame.value.toString('utf8') }, 'session event');
        publisher.enqueue({
          key,
          value: frame.value,
          headers: encodeRawHeaders({
            venue: client.venue,
            account,
            apiVersion: client.apiVersion,
            connId: frame.connId,
            connSeq: frame.connSeq,
            receivedAt: frame.receivedAt,
            frameKind: frame.kind,
          }),
        });
      },
    });
  });

  const stats = (): CollectorStats => ({
    frames,
    sessionEvents,
    published: publisher.published,
    pending: publisher.pending,
    connections: sessions.reduce((n, s) => n + s.connections, 0),
    tracking: tracking?.stats() ?? { fromState: 0, fromTopic: 0, rejected: 0 },
  });

  return {
    stats,
    async start() {
      await producer.connect();
      publisher.start();
      for (const s of sessions) s.start();
      tracking = await startTracking({ kafka: deps.kafka, topics: deps.topics, accounts: deps.accounts, decodeState: deps.decodeState, logger });
      logger.info({ accounts: deps.accounts.map((a) => `${a.client.venue}|${a.account}`) }, 'collector started');
      const every = deps.progressEveryMs ?? 30_000;
      if (every > 0) progress = setInterval(() => logger.info(stats(), 'collector progress'), every).unref();
    },
    async stop() {
      clearInterval(progress);
      await tracking?.stop();
      await Promise.all(sessions.map((s) => s.stop()));
      await publisher.drainAndStop();
      await producer.disconnect();
      logger.info(stats(), 'collector stopped');
    },
  };
}
