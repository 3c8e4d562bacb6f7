import { silentLogger } from '@orderstream/kit';
import { DEFAULT_RECONCILE_OPTIONS, type ReconcileOptions } from '../reconcile.js';
import { VenueSession, type RawFrame, type SessionReconcileSource } from '../session.js';
import type { LiveOrderRef, SessionEvent, SessionIO, VenueClient } from '../types.js';

/** A session event as the session sinks it (the JSON of a `session` frame). */
export type RecordedEvent = SessionEvent & { venue: string };

/** What the reconciliation of a {@link RecordingSession} starts from. Omitted fields: no suspects, no last-seen time. */
export interface RecordingReconcileSource {
  suspects?: () => LiveOrderRef[];
  lastSeenMs?: () => number | undefined;
  /** on top of DEFAULT_RECONCILE_OPTIONS */
  options?: Partial<ReconcileOptions>;
  fetch?: typeof globalThis.fetch;
}

export interface RecordingSessionOptions {
  client: VenueClient;
  /** The simulator the client talks to: `until()` also re-checks on its state changes. */
  sim?: { waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<unknown> };
  /** Reconcile (the session is given a reconcile source); omit for a session that never reconciles. */
  reconcile?: RecordingReconcileSource;
  /** `until()`'s default deadline. Default 10 s. */
  timeoutMs?: number;
  /** More for a timed-out `until()` to say (e.g. the simulator's counters). */
  detail?: () => string;
}

/**
 * A VenueSession for venue tests (no Kafka): silent logger, fast backoff (20 ms → 200 ms, no jitter), every sunk
 * frame kept in order, and `until()` that waits on a condition over them, woken by every frame (and, given `sim`,
 * every simulator change), never polling. Not started: call `start()`; `stop()` is safe either way. Its members are
 * bound, so a test may destructure them (`const { frames, until } = rec`).
 */
export class RecordingSession {
  readonly frames: RawFrame[] = [];
  readonly session: VenueSession;
  readonly #waiters = new Set<() => void>();
  readonly #sim: RecordingSessionOptions['sim'];
  readonly #timeoutMs: number;
  readonly #detail: (() => string) | undefined;

  constructor(options: RecordingSessionOptions) {
    this.#sim = options.sim;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#detail = options.detail;
    this.session = new VenueSession({
      client: options.client,
      sink: (f) => {
        this.frames.push(f);
        for (const w of [...this.#waiters]) w();
      },
      logger: silentLogger(),
      backoff: { initialMs: 20, maxMs: 200, jitter: 0 },
      ...(options.reconcile ? { reconcile: reconcileSource(options.reconcile) } : {}),
    });
  }

  readonly start = (): void => this.session.start();

  readonly stop = (): Promise<void> => this.session.stop();

  /** The session events sunk so far, parsed. */
  readonly events = (): RecordedEvent[] =>
    this.frames.filter((f) => f.kind === 'session').map((f) => JSON.parse(f.value.toString('utf8')) as RecordedEvent);

  readonly eventsOf = (type: SessionEvent['event']): RecordedEvent[] => this.events().filter((e) => e.event === type);

  /** The data frames sunk so far, as text. */
  readonly data = (): string[] => this.dataFrames().map((f) => f.value.toString('utf8'));

  readonly dataFrames = (): RawFrame[] => this.frames.filter((f) => f.kind === 'data');

  /** The REST answers a reconciliation published. */
  readonly rest = (): RawFrame[] => this.frames.filter((f) => f.kind === 'rest');

  /** Waits until `cond` holds, re-checking on every sunk frame and simulator change; rejects after the deadline. */
  readonly until = (cond: () => boolean, what: string, timeoutMs = this.#timeoutMs): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const detail = this.#detail ? `; ${this.#detail()}` : '';
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; session events: ${JSON.stringify(this.events().slice(-6))}${detail}`));
      }, timeoutMs);
      this.#waiters.add(check);
      void this.#sim?.waitUntil(cond, timeoutMs, what).then(check, () => {});
      check();
    });
}

function reconcileSource(r: RecordingReconcileSource): SessionReconcileSource {
  return {
    suspects: r.suspects ?? (() => []),
    lastSeenMs: r.lastSeenMs ?? (() => undefined),
    options: { ...DEFAULT_RECONCILE_OPTIONS, ...r.options },
    ...(r.fetch ? { fetch: r.fetch } : {}),
  };
}

/** A SessionIO for client unit tests (no socket): keeps what the client sends, its events, its reconnect asks and counts its pings. */
export class RecordingIO implements SessionIO {
  readonly sent: string[] = [];
  readonly events: SessionEvent[] = [];
  readonly reconnects: Array<{ reason: string; code: string | number | undefined }> = [];
  /** heartbeat pings the client asked for */
  pings = 0;
  send(text: string): void {
    this.sent.push(text);
  }
  ping(): void {
    this.pings++;
  }
  event(e: SessionEvent): void {
    this.events.push(e);
  }
  reconnect(reason: string, code?: string | number): void {
    this.reconnects.push({ reason, code });
  }
  /** The events of one type, in order. */
  of(type: SessionEvent['event']): SessionEvent[] {
    return this.events.filter((e) => e.event === type);
  }
}
