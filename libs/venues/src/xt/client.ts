import { z } from 'zod';
import { errorMessage, parseConfig, secretString, VenueError, type Logger } from '@orderstream/kit';
import type { ConnectTarget, SessionIO, VenueClient } from '../types.js';
import { routeXtFrame, xtReplySchema } from './frames.js';
import { maskListenKey, XT_API_VERSION } from './mapper.js';
import { XtReconciler } from './reconciler.js';
import { XT_LISTEN_KEY_PATH, xtSignature } from './sign.js';

/** XT closes a user socket that sent no text `ping` for 30 s (XTDOC, XTREPO heartBeat.md). */
export const XT_PING_DEADLINE_MS = 30_000;
/** "Valid time is 8 hours" (XTREPO `_futures_user/getListenKey.md`). */
export const XT_LISTEN_KEY_LIFETIME_MS = 8 * 60 * 60 * 1000;

const HOUR = 60 * 60 * 1000;

const urlWithScheme = (schemes: readonly string[], what: string) =>
  z.string({ error: 'is required' }).refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { error: `must be an ${what} URL` },
  );

const int = (min: number, max: number, tooBig?: string) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: tooBig ?? `must be at most ${max}` });

/**
 * Configuration of one XT futures user-stream connection (one account). Numbers may come as strings (env).
 */
export const xtClientConfigSchema = z
  .object({
    /** REST base, e.g. https://fapi.xt.com (USDT-M) */
    restUrl: urlWithScheme(['http:', 'https:'], 'http(s)'),
    /** user socket, e.g. wss://fstream.xt.com/ws/user */
    wsUrl: urlWithScheme(['ws:', 'wss:'], 'ws(s)'),
    apiKey: secretString(),
    apiSecret: secretString(),
    /** text `ping` period; XT drops a socket after 30 s without one */
    pingIntervalMs: int(10, XT_PING_DEADLINE_MS - 1, `must be below ${XT_PING_DEADLINE_MS} (XT drops a socket with no ping for 30 s)`).default(20_000),
    /** reconnect with a fresh listen key once the key is this old; keys live 8 h */
    listenKeyRefreshMs: int(100, XT_LISTEN_KEY_LIFETIME_MS - 1, 'must be below 8 h (28800000 ms), the listen key lifetime').default(7 * HOUR),
    /** validate-recvwindow header: how stale the signed timestamp may be (XT: default 5000, max 60000) */
    recvWindowMs: int(1, 60_000).default(5_000),
    /** timeout of the listen-key REST call */
    requestTimeoutMs: int(100, 120_000).default(10_000),
    /** silence (no frame at all, pongs included) after which the connection is considered dead; default 2 × ping + 5 s */
    idleTimeoutMs: int(0, 10 * 60_000).optional(),
  })
  .strict();

export type XtClientConfigInput = z.input<typeof xtClientConfigSchema>;
export type XtClientConfig = z.output<typeof xtClientConfigSchema>;

export interface XtClientDeps {
  /** defaults to the global fetch (Node 20) */
  fetch?: typeof globalThis.fetch;
  /** epoch ms; defaults to Date.now */
  now?: () => number;
  logger?: Logger;
}

/** Envelope of XT futures REST replies (XTREPO `_futures_documentation/returnFormat.md`, `getListenKey.md`). */
const restEnvelopeSchema = z.looseObject({
  returnCode: z.union([z.number(), z.string()]).optional(),
  msgInfo: z.string().nullish(),
  error: z
    .looseObject({ code: z.union([z.string(), z.number()]).nullish(), msg: z.string().nullish() })
    .nullish(),
  result: z.unknown().optional(),
});

/**
 * The XT half of a collector session (USDT-M futures user stream, topic `order`):
 * - prepare(): signed REST GET of a fresh listen key (one per connection) → the user socket URL;
 * - onOpen(): `{"method":"SUBSCRIBE","params":["order@<listenKey>"],"id":"xt-sub-<n>"}`;
 * - onFrame(): ack → 'subscribed'; failure → 'error' (+ reconnect when it was our subscribe); listen key invalid
 *   (code 2, code 401, text `<topic>@invalid_listen(_)key`) → reconnect, so prepare() fetches a new key;
 * - heartbeat: text `ping` every pingIntervalMs; a key older than listenKeyRefreshMs → reconnect.
 * Secrets (API key, secret, signature, listen key) never go into errors or session events; listen keys are masked.
 */
export class XtClient implements VenueClient {
  readonly venue = 'xt' as const;
  readonly apiVersion = XT_API_VERSION;
  readonly heartbeat: { intervalMs: number; beat(io: SessionIO): void };
  readonly idleTimeoutMs: number;
  /** REST reconciliation after every (re)connect, signed with the same credentials (./reconciler.ts) */
  readonly reconciler: XtReconciler;

  readonly #config: XtClientConfig;
  readonly #fetch: typeof globalThis.fetch;
  readonly #now: () => number;
  readonly #log: Logger | undefined;
  #listenKey: string | undefined;
  #listenKeyAt = 0;
  #subscribeId: string | undefined;
  #subscribeSeq = 0;

  constructor(config: XtClientConfig, deps: XtClientDeps = {}) {
    this.#config = config;
    this.#fetch = deps.fetch ?? globalThis.fetch;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.logger;
    this.idleTimeoutMs = config.idleTimeoutMs ?? config.pingIntervalMs * 2 + 5_000;
    this.heartbeat = { intervalMs: config.pingIntervalMs, beat: (io) => this.#beat(io) };
    this.reconciler = new XtReconciler(
      { restUrl: config.restUrl, apiKey: config.apiKey, apiSecret: config.apiSecret, recvWindowMs: config.recvWindowMs },
      this.#now,
    );
  }

  /** Validates raw configuration (throws ConfigError listing every problem) and builds a client. */
  static fromConfig(input: unknown, deps?: XtClientDeps): XtClient {
    return new XtClient(parseConfig(xtClientConfigSchema, input), deps);
  }

  /** The listen key in use, masked (first 4 characters + '…'), for health output. */
  get listenKeyMasked(): string | undefined {
    return this.#listenKey === undefined ? undefined : maskListenKey(this.#listenKey);
  }

  async prepare(signal: AbortSignal): Promise<ConnectTarget> {
    this.#listenKey = undefined;
    this.#subscribeId = undefined;
    this.#listenKey = await this.#fetchListenKey(signal);
    this.#listenKeyAt = this.#now();
    this.#log?.info({ listenKeyMasked: maskListenKey(this.#listenKey) }, 'xt listen key obtained');
    return { url: this.#config.wsUrl };
  }

  onOpen(io: SessionIO): void {
    const key = this.#listenKey;
    if (key === undefined) throw new Error('XtClient.onOpen before prepare(): no listen key');
    const id = `xt-sub-${++this.#subscribeSeq}`;
    this.#subscribeId = id;
    io.event({ event: 'authenticated', details: { listenKey: maskListenKey(key) } });
    io.send(JSON.stringify({ method: 'SUBSCRIBE', params: [`order@${key}`], id }));
  }

  onFrame(text: string, io: SessionIO): void {
    if (text === 'pong') return;
    // Pushes are the bulk of the traffic and already handed on raw: no parsing here.
    if (text.charCodeAt(0) === 123 && text.includes('"topic"')) return;
    let routed;
    try {
      routed = routeXtFrame(text);
    } catch {
      return; // not for the client to judge; the normalizer dead-letters what it cannot read
    }
    if (routed.kind === 'invalid-listen-key') {
      io.reconnect(`XT says the listen key is invalid (${routed.text})`, routed.text.slice(routed.text.indexOf('@') + 1));
      return;
    }
    if (routed.kind !== 'reply') return;
    const parsed = xtReplySchema.safeParse(routed.value);
    if (!parsed.success) return;
    const reply = parsed.data;
    const code = Number(reply.code);
    const id = reply.id === null || reply.id === undefined ? undefined : String(reply.id);
    const ours = id !== undefined && id === this.#subscribeId;
    const msg = this.#scrub(reply.msg ?? '');
    const details: Record<string, unknown> = {};
    if (id !== undefined) details.id = id;
    if (reply.sessionId) details.sessionId = reply.sessionId;

    if (code === 0) {
      if (ours && this.#listenKey !== undefined) {
        io.event({ event: 'subscribed', details: { ...details, topics: [`order@${maskListenKey(this.#listenKey)}`] } });
      }
      return;
    }
    if (code === 2 || code === 401) {
      io.reconnect(`XT says the listen key is invalid or expired (code ${code}${msg ? `: ${msg}` : ''})`, code);
      return;
    }
    io.event({
      event: 'error',
      reason: ours ? `XT refused the subscription (code ${code}${msg ? `: ${msg}` : ''})` : `XT error reply (code ${code}${msg ? `: ${msg}` : ''})`,
      code,
      details,
    });
    // Not subscribed means no data while pongs keep the socket looking healthy: start over.
    if (ours) io.reconnect(`subscription refused (code ${code})`, code);
  }

  #beat(io: SessionIO): void {
    io.send('ping');
    const age = this.#now() - this.#listenKeyAt;
    if (this.#listenKey !== undefined && age >= this.#config.listenKeyRefreshMs) {
      io.reconnect(`listen key is ${age} ms old (refresh after ${this.#config.listenKeyRefreshMs} ms): reconnecting with a new one`);
    }
  }

  /** Venue messages are copied into events; make sure no listen key rides along. */
  #scrub(text: string): string {
    let s = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    if (this.#listenKey) s = s.split(this.#listenKey).join(maskListenKey(this.#listenKey));
    return s;
  }

  async #fetchListenKey(signal: AbortSignal): Promise<string> {
    const cfg = this.#config;
    const appKey = cfg.apiKey.reveal();
    const timestamp = String(this.#now());
    const signature = xtSignature(cfg.apiSecret.reveal(), { appKey, timestamp, path: XT_LISTEN_KEY_PATH });
    const url = `${cfg.restUrl.replace(/\/+$/, '')}${XT_LISTEN_KEY_PATH}`;
    const timeout = AbortSignal.timeout(cfg.requestTimeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const what = `XT listen-key request (GET ${XT_LISTEN_KEY_PATH})`;

    let status: number;
    let body: string;
    try {
      const res = await this.#fetch(url, {
        method: 'GET',
        headers: {
          accept: 'application/json',
          'validate-appkey': appKey,
          'validate-timestamp': timestamp,
          'validate-signature': signature,
          'validate-recvwindow': String(cfg.recvWindowMs),
          'validate-algorithms': 'HmacSHA256',
        },
        signal: combined,
      });
      status = res.status;
      body = await res.text();
    } catch (error) {
      if (signal.aborted) throw new VenueError('VENUE_HTTP_ERROR', `${what} aborted: session stopping`);
      if (timeout.aborted) {
        throw new VenueError('VENUE_HTTP_ERROR', `${what} timed out after ${cfg.requestTimeoutMs} ms`, { retriable: true });
      }
      throw new VenueError('VENUE_HTTP_ERROR', `${what} failed: ${errorMessage(error)}${causeText(error)}`, {
        retriable: true,
        details: { url },
      });
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const env = restEnvelopeSchema.safeParse(json);
    const e = env.success ? env.data : undefined;
    const returnCode = e?.returnCode === undefined ? undefined : String(e.returnCode);
    // Success is returnCode 0 (getListenKey.md, live probes); returnFormat.md's example shows 200, accepted too.
    const succeeded = returnCode === '0' || returnCode === '200';
    if (status >= 200 && status < 300 && succeeded && typeof e?.result === 'string' && e.result.length > 0) {
      return e.result;
    }

    const venueCode = e?.error?.code != null && e.error.code !== '' ? String(e.error.code) : returnCode !== undefined && !succeeded ? returnCode : undefined;
    const venueMessage = this.#scrub(e?.error?.msg || e?.msgInfo || (e ? '' : `non-JSON body: ${body.slice(0, 80)}`));
    const details = { httpStatus: status, venueCode: venueCode ?? null, venueMessage, url };
    const said = `HTTP ${status}${venueCode ? `, code ${venueCode}` : ''}${venueMessage ? ` (${venueMessage})` : ''}`;

    if (status === 429 || status >= 500) {
      throw new VenueError('VENUE_HTTP_ERROR', `${what} failed: ${said}`, { retriable: true, details });
    }
    if (status === 401 || status === 403 || (venueCode !== undefined && /^AUTH_/i.test(venueCode))) {
      // AUTH_105 "outdated message": our timestamp fell outside recvWindow; a new one may pass.
      throw new VenueError('VENUE_AUTH_FAILED', `${what} refused: ${said}`, { retriable: venueCode === 'AUTH_105', details });
    }
    if (status >= 200 && status < 300 && succeeded) {
      throw new VenueError('VENUE_HTTP_ERROR', `${what}: success reply without a listen key in "result"`, { details });
    }
    throw new VenueError('VENUE_HTTP_ERROR', `${what} refused: ${said}`, { details });
  }
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}
