import { z } from 'zod';
import { parseConfig, secretString, type Logger } from '@orderstream/kit';
import type { ConnectTarget, SessionIO, VenueClient, VenueReconciler } from '../types.js';
import { routeWebseaFrame, webseaReplySchema } from './frames.js';
import { WEBSEA_API_VERSION } from './mapper.js';
import { webseaNonce, webseaSubscribeSignature } from './sign.js';
import { WebseaReconciler } from './reconciler.js';

/** Sockets that neither subscribe nor send are closed after ~30.7 s (NEMA, public sockets); ping well within. */
export const WEBSEA_IDLE_CLOSE_MS = 30_000;
/** The doc's nonce rule: "time deviation must not exceed 60 seconds". */
export const WEBSEA_NONCE_WINDOW_MS = 60_000;
/** Path of the spot order channel (WSDOC spot ws-order). */
export const WEBSEA_SPOT_ORDER_PATH = '/ws/v1/spot/order';

/** Every errno the client or simulator names (WSREPO `en/about/errno`; 50009 and 51000 from NEMA's probes). */
export const WEBSEA_ERRNO = {
  0: 'success',
  20001: 'request failure',
  20401: 'no permission',
  20500: 'system error',
  20505: 'bad argument',
  20506: 'api signature not valid',
  20507: 'gateway internal error',
  20519: 'the nonce has been used',
  20520: 'nonce expires, please verify server time',
  20521: 'incomplete header parameters',
  20522: 'not getting the current user',
  20523: 'please authenticate',
  20524: 'btc account lockout',
  20525: 'get API Key error',
  20526: 'no query permission',
  20529: 'API Key expired',
  20530: 'no permission',
  50009: 'WS channel unavailable.',
  51000: 'unsupported op',
} as const satisfies Record<number, string>;

/**
 * Authentication / permission errnos: the token, nonce or signature was refused, or the key may not read orders.
 * The client reports them as 'error' session events with the errno as code and reconnects with a fresh nonce.
 */
export const WEBSEA_AUTH_ERRNOS: ReadonlySet<number> = new Set([20401, 20506, 20519, 20520, 20521, 20522, 20523, 20524, 20525, 20526, 20529, 20530]);

const int = (min: number, max: number, tooBig?: string) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: tooBig ?? `must be at most ${max}` });

/** Configuration of one WebSea spot order-channel connection (one account). Numbers may come as strings (env). */
export const webseaClientConfigSchema = z
  .object({
    /** the full socket URL including the path, e.g. wss://oapi.websea.com/ws/v1/spot/order (host inferred: UNCONFIRMED) */
    wsUrl: z.string({ error: 'is required' }).refine(
      (v) => {
        try {
          const u = new URL(v);
          return (u.protocol === 'ws:' || u.protocol === 'wss:') && u.pathname.length > 1;
        } catch {
          return false;
        }
      },
      { error: 'must be a ws(s) URL including the path (e.g. wss://oapi.websea.com/ws/v1/spot/order)' },
    ),
    /**
     * Spot REST base URL for reconciliation, e.g. https://oapi.websea.com (WSREPO doc index). Absent: this account is
     * never reconciled.
     */
    restUrl: z
      .string()
      .refine(
        (v) => {
          try {
            const u = new URL(v);
            return u.protocol === 'http:' || u.protocol === 'https:';
          } catch {
            return false;
          }
        },
        { error: 'must be an http(s) URL (e.g. https://oapi.websea.com)' },
      )
      .optional(),
    /** history pages (100 orders each) read at most per reconciliation; the walk stops at the gap's start first */
    historyMaxPages: int(1, 1000).default(50),
    /** API token ("Personal Center → Open API") */
    token: secretString(),
    /** API secret key */
    secretKey: secretString(),
    /** WebSocket control ping period; WebSea drops quiet sockets after ~30 s, 15 s or less is recommended */
    pingIntervalMs: int(10, 15_000, 'must be at most 15000 (WebSea closes quiet sockets after about 30 s)').default(10_000),
    /** no ack to our subscribe within this long → reconnect (a socket without a subscription delivers nothing) */
    subscribeTimeoutMs: int(100, 120_000).default(10_000),
    /** silence (no frame, no pong) after which the connection is considered dead; default 2 × ping + 5 s; 0 disables */
    idleTimeoutMs: int(0, 10 * 60_000).optional(),
    /** sort of the signed strings: byte-wise (Python/PHP samples, default) or case-insensitive (Java sample) */
    signatureSort: z.enum(['bytewise', 'case-insensitive'], { error: "must be 'bytewise' or 'case-insensitive'" }).default('bytewise'),
    /** also sign `op=sub` and `channel=order` (UNCONFIRMED alternative; the doc names token, secret and nonce only) */
    signSubscribeParams: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .strict();

export type WebseaClientConfigInput = z.input<typeof webseaClientConfigSchema>;
export type WebseaClientConfig = z.output<typeof webseaClientConfigSchema>;

export interface WebseaClientDeps {
  /** epoch ms; defaults to Date.now (the nonce carries its seconds) */
  now?: () => number;
  /** nonce source; defaults to `<now seconds>_<5 random alphanumerics>`; tests inject reuse */
  nonce?: (nowMs: number) => string;
  logger?: Logger;
}

/**
 * The WebSea half of a collector session (spot, `/ws/v1/spot/order`, channel `order`):
 * - prepare(): nothing to fetch; the URL from config;
 * - onOpen(): `{"op":"sub","channel":"order","token":…,"Nonce":…,"Signature":…}` with a fresh single-use nonce;
 * - onFrame(): ack (errno 0) → 'authenticated' + 'subscribed'; refusal → 'error' with the errno as code, and a
 *   reconnect (fresh nonce) when it refused our subscription or was an auth errno;
 * - heartbeat: a WebSocket control ping every pingIntervalMs (WebSea has no documented heartbeat; quiet sockets are
 *   closed after ~30 s); no ack within subscribeTimeoutMs → reconnect.
 * Secrets (token, secret key, signature) never go into errors, logs or session events.
 */
export class WebseaClient implements VenueClient {
  readonly venue = 'websea' as const;
  readonly apiVersion = WEBSEA_API_VERSION;
  readonly heartbeat: { intervalMs: number; beat(io: SessionIO): void };
  readonly idleTimeoutMs: number;
  /** REST reconciliation (./reconciler.ts); absent without `restUrl` */
  readonly reconciler?: VenueReconciler;

  readonly #config: WebseaClientConfig;
  readonly #now: () => number;
  readonly #nonce: (nowMs: number) => string;
  readonly #log: Logger | undefined;
  /** epoch ms our subscribe went out, while no answer has come */
  #pendingSince: number | undefined;
  #subscribed = false;
  #lastNonce: string | undefined;
  #subscriptions = 0;

  constructor(config: WebseaClientConfig, deps: WebseaClientDeps = {}) {
    this.#config = config;
    this.#now = deps.now ?? Date.now;
    this.#nonce = deps.nonce ?? webseaNonce;
    this.#log = deps.logger;
    this.idleTimeoutMs = config.idleTimeoutMs ?? config.pingIntervalMs * 2 + 5_000;
    this.heartbeat = { intervalMs: config.pingIntervalMs, beat: (io) => this.#beat(io) };
    const restUrl = config.restUrl;
    if (restUrl !== undefined) {
      this.reconciler = new WebseaReconciler(
        () => ({
          restUrl,
          token: config.token.reveal(),
          secretKey: config.secretKey.reveal(),
          signatureSort: config.signatureSort,
          historyMaxPages: config.historyMaxPages,
        }),
        { now: this.#now },
      );
    }
  }

  /** Validates raw configuration (throws ConfigError listing every problem) and builds a client. */
  static fromConfig(input: unknown, deps?: WebseaClientDeps): WebseaClient {
    return new WebseaClient(parseConfig(webseaClientConfigSchema, input), deps);
  }

  /** True once the current connection's subscription was acknowledged. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  async prepare(_signal: AbortSignal): Promise<ConnectTarget> {
    // The credentials travel in the subscribe message; the nonce is made in onOpen so that it is as fresh as
    // possible when WebSea checks its ±60 s window.
    this.#pendingSince = undefined;
    this.#subscribed = false;
    return { url: this.#config.wsUrl };
  }

  onOpen(io: SessionIO): void {
    this.#subscribed = false;
    const now = this.#now();
    let nonce = this.#nonce(now);
    // Single use: the default source never repeats itself (5 random characters; re-drawn in the unlikely case it
    // did). An injected source is used as given, so tests can make it repeat and see 20519.
    if (nonce === this.#lastNonce && this.#nonce === webseaNonce) nonce = webseaNonce(now);
    this.#lastNonce = nonce;
    const token = this.#config.token.reveal();
    const signature = webseaSubscribeSignature({
      token,
      secretKey: this.#config.secretKey.reveal(),
      nonce,
      op: 'sub',
      channel: 'order',
      includeOpChannel: this.#config.signSubscribeParams,
      order: this.#config.signatureSort,
    });
    this.#pendingSince = now;
    io.send(JSON.stringify({ op: 'sub', channel: 'order', token, Nonce: nonce, Signature: signature }));
  }

  onFrame(text: string, io: SessionIO): void {
    // Pushes are the bulk of the traffic and already handed on raw: no parsing here.
    if (!text.includes('"errno"')) return;
    let routed;
    try {
      routed = routeWebseaFrame(text);
    } catch {
      return; // not for the client to judge; the normalizer dead-letters what it cannot read
    }
    if (routed.kind !== 'reply') return;
    const parsed = webseaReplySchema.safeParse(routed.value);
    if (!parsed.success) return;
    const errno = Number(parsed.data.errno);
    const op = parsed.data.op ?? null;
    const channel = parsed.data.channel ?? null;
    const msg = this.#scrub(parsed.data.errmsg ?? '');
    // A reply is ours when it names our channel, or names none while our subscribe waits for an answer.
    const aboutOrder = channel === 'order' || (channel === null || channel === '' ? this.#pendingSince !== undefined : false);

    if (errno === 0) {
      if (op === 'unsub' || !aboutOrder || this.#pendingSince === undefined) return;
      this.#pendingSince = undefined;
      this.#subscribed = true;
      this.#subscriptions++;
      io.event({ event: 'authenticated', details: { channel: 'order' } });
      io.event({ event: 'subscribed', details: { channel: 'order', op: op ?? 'sub' } });
      this.#log?.info({ subscriptions: this.#subscriptions }, 'websea order channel subscribed');
      return;
    }

    const refusedOurs = this.#pendingSince !== undefined && (aboutOrder || op === 'sub');
    const auth = WEBSEA_AUTH_ERRNOS.has(errno);
    const said = `errno ${errno}${msg ? ` (${msg})` : ''}`;
    io.event({
      event: 'error',
      reason: refusedOurs ? `WebSea refused the order subscription: ${said}` : `WebSea error reply: ${said}`,
      code: errno,
      details: { ...(op !== null ? { op } : {}), ...(channel !== null ? { channel } : {}), auth },
    });
    if (refusedOurs || auth) {
      // Auth errors: start over with a fresh nonce (a used or stale nonce is the usual cause). Any other refusal of
      // our subscribe: a socket without a subscription would stay quiet and look healthy.
      this.#pendingSince = undefined;
      this.#subscribed = false;
      io.reconnect(auth ? `WebSea authentication failed: ${said}` : `subscription refused: ${said}`, errno);
    }
  }

  #beat(io: SessionIO): void {
    io.ping();
    const since = this.#pendingSince;
    if (since !== undefined && this.#now() - since >= this.#config.subscribeTimeoutMs) {
      this.#pendingSince = undefined;
      io.reconnect(`no answer to the order subscription within ${this.#config.subscribeTimeoutMs} ms`);
    }
  }

  /** Venue messages are copied into events; make sure no credential rides along. */
  #scrub(text: string): string {
    let s = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    for (const secret of [this.#config.token.reveal(), this.#config.secretKey.reveal()]) {
      if (secret.length >= 4) s = s.split(secret).join('[redacted]');
    }
    return s;
  }
}
