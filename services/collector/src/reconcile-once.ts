import { randomUUID } from 'node:crypto';
import { nowEpochNanos, type Logger } from '@orderstream/kit';
import type { Kafka, TopicNames } from '@orderstream/kafka';
import type { OrderState } from '@orderstream/schemas';
import {
  createRestIO, DEFAULT_RECONCILE_OPTIONS, reconcileFailedEvent, reconciledEvent, runReconciliation, TokenBucket,
  type RawFrame, type ReconcileReport, type SessionEvent,
} from '@orderstream/venues';
import { rawRecordOf, type CollectorAccount } from './app.js';
import { OrderedPublisher } from './publisher.js';
import { StateView } from './state-view.js';

export interface ReconcileOnceDeps {
  kafka: Kafka;
  topics: TopicNames;
  target: CollectorAccount;
  decodeState: (buf: Buffer) => OrderState;
  logger: Logger;
  /** epoch ms where the gap began; default: the latest update orders.state.v1 holds for the account */
  sinceMs?: number;
}

/**
 * One reconciliation of one account, outside a running collector (`orderstream reconcile`): the same rules and the
 * same raw records as the collector's own runs (REST answers, then the `reconciled` event), under a connection id
 * of its own, so a running collector and this command can both write the account's partition. Works whether or not
 * a collector is running. Throws when the run cannot complete (after recording the failure as a session event).
 */
export async function reconcileOnce(deps: ReconcileOnceDeps): Promise<ReconcileReport> {
  const { client, account } = deps.target;
  const reconciler = client.reconciler;
  if (!reconciler) throw new RangeError(`venue ${client.venue} has no reconciler`);
  const options = deps.target.reconcile ?? DEFAULT_RECONCILE_OPTIONS;
  const producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const publisher = new OrderedPublisher(producer, deps.topics.raw, deps.logger);
  const connId = `reconcile-${randomUUID()}`;
  let connSeq = 0;
  const emit = (value: Buffer, kind: RawFrame['kind'], rest?: RawFrame['rest']) =>
    publisher.enqueue(rawRecordOf(client, account, { value, kind, connId, connSeq: ++connSeq, receivedAt: nowEpochNanos(), ...(rest ? { rest } : {}) }));
  const event = (e: SessionEvent) => emit(Buffer.from(JSON.stringify({ ...e, venue: client.venue })), 'session');

  await producer.connect();
  publisher.start();
  const view = await StateView.start({ kafka: deps.kafka, topics: deps.topics, decodeState: deps.decodeState, logger: deps.logger, accounts: new Set([`${client.venue}|${account}`]) });
  try {
    const limit = options.rateLimit ?? reconciler.rateLimit;
    const io = createRestIO({
      bucket: new TokenBucket(limit.capacity, limit.refillPerSec),
      signal: new AbortController().signal,
      timeoutMs: options.requestTimeoutMs,
      maxAttempts: options.maxAttempts,
      event,
      publish: (body, request, status) => emit(body, 'rest', { request, status }),
    });
    const sinceMs = deps.sinceMs ?? view.lastSeenMs(client.venue, account);
    try {
      const report = await runReconciliation(reconciler, io, {
        suspects: view.suspects(client.venue, account),
        ...(sinceMs !== undefined ? { sinceMs } : {}),
        maxDetailLookups: options.maxDetailLookups,
        historyMarginMs: options.historyMarginMs,
      });
      event(reconciledEvent('manual', report));
      return report;
    } catch (error) {
      event(reconcileFailedEvent(error, 1, 0));
      throw error;
    }
  } finally {
    await publisher.drainAndStop(30_000);
    await producer.disconnect();
    await view.stop();
  }
}
