import { z } from 'zod';
import { errorMessage, parseConfig, secretString, VenueError, type Logger } from '@orderstream/kit';
import type { ConnectTarget, SessionIO, VenueClient, VenueReconciler } from '../types.js';
import { LOOPRING_PING, LOOPRING_PONG, parseLoopringReply, routeLoopringFrame } from './frames.js';
import { LOOPRING_API_VERSION } from './mapper.js';
import { LoopringReconciler } from './reconciler.js';

/** REST path of the one-time connection key (LRWEB `LightconeAPI.getWsApiKey`, hummingbot; v3: `/v3/ws/key`). */
export const LOOPRING_WS_KEY_PATH = '/v2/ws/key';
/** The relayer pings every 30 s (LRV2 overview.md "Heartbeat"). */
export const LOOPRING_SERVER_PING_INTERVAL_MS = 30_000;
/** "Subscribe up to 20 topics in total" (LRV2 overview.md). */
export const LOOPRING_MAX_TOPICS = 20;

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

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

/** A Loopring market name: `LRC-ETH` (BASE-QUOTE, upper case, as `api/v2/exchange/markets` lists them). */
export const LOOPRING_MARKET_RE = /^[A-Z0-9]+-[A-Z0-9]+$/;

/**
 * Configuration of one Loopring relayer connection (one account, `order` topic on every listed market). Numbers may
 * come as strings (env). Unknown keys are refused.
 */
export const loopringClientConfigSchema = z
  .object({
    /** REST base, e.g. https://api.loopring.io (the key endpoint is `<restUrl>/v2/ws/key`) */
    restUrl: urlWithScheme(['http:', 'https:'], 'http(s)'),
    /** relayer socket without the key, e.g. wss://ws.loopring.io/v2/ws */
    wsUrl: urlWithScheme(['ws:', 'wss:'], 'ws(s)').refine((v) => !/[?&]wsApiKey=/.test(v), {
      error: 'must not carry a wsApiKey (a new one-time key is fetched for every connection)',
    }),
    /** the account's ApiKey, sent in the sub message */
    apiKey: secretString(),
    /** markets whose `order` topic to subscribe: `LRC-ETH`, … */
    markets: z
      .array(
        z.string({ error: 'must be a string' }).regex(LOOPRING_MARKET_RE, { error: 'must be a market name like LRC-ETH (BASE-QUOTE, upper case)' }),
        { error: 'is required (a list of market names like LRC-ETH)' },
      )
      .min(1, { error: 'must name at least one market' })
      .max(LOOPRING_MAX_TOPICS, { error: `must name at most ${LOOPRING_MAX_TOPICS} markets (the relayer's topic limit)` })
      .refine((list) => new Set(list).size === list.length, { error: 'must not name a market twice (the relayer refuses duplicate topic configs, 104103)' }),
    /** timeout of the key request */
    requestTimeoutMs: int(100, 120_000).default(10_000),
    /** silence (no frame at all, pings included) after which the connection is presumed dead; 0 disables */
    idleTimeoutMs: int(0, 10 * 60_000).default(75_000),
    /** the account's id (REST `accountId`); without it the account is not reconciled (no REST order query works without it) */
    accountId: int(0, 2 ** 32 - 1).optional(),
    /** REST API generation of the reconciliation queries: v2 (`/api/v2/orders`, the stream's API) or v3 (`/api/v3/orders`) */
    restApi: z.enum(['v2', 'v3'], { error: 'must be v2 or v3' }).default('v2'),
    /** orders per page of the order list queries (the relayer's default is 50) */
    pageSize: int(1, 500).default(50),
  })
  .strict();

export type LoopringClientConfigInput = z.input<typeof loopringClientConfigSchema>;
export type LoopringClientConfig = z.output<typeof loopringClientConfigSchema>;

export interface LoopringClientDeps {
  /** defaults to the global fetch (Node 20) */
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
}

/**
 * Reply of the key endpoint. v2: `{"resultInfo":{"code":0,"message":"SUCCESS"},"data":"<key>"}` (LRWEB returns
 * `data`; hummingbot reads `data`); v3 doc: `{"key":"fx2xW5hoVFbcaanWS"}`. Both are read.
 */
const keyReplySchema = z.looseObject({
  resultInfo: z.looseObject({ code: z.union([z.number(), z.string()]).nullish(), message: z.string().nullish() }).nullish(),
  data: z.unknown().optional(),
  key: z.unknown().optional(),
});

/** A one-time key in logs and events: first 4 characters + '…'. */
export function maskLoopringKey(key: string): string {
  return key.length <= 4 ? '…' : `${key.slice(0, 4)}…`;
}

/**
 * The Loopring half of a collector session (v2 relayer, topic `order` per market):
 * - prepare(): `GET <restUrl>/v2/ws/key` (no auth) for a one-time key → `<wsUrl>?wsApiKey=<key>`; a new key for every
 *   (re)connect, since a key is valid once (LRWEB);
 * - onOpen(): `{"op":"sub","sequence":n,"apiKey":…,"unsubscribeAll":true,"topics":[{"topic":"order","market":…}]}`;
 * - onFrame(): text `ping` → text `pong`, exactly once per ping (never unsolicited: more pongs than pings make the
 *   relayer disconnect); ok reply to our sub → `authenticated` + `subscribed`; a failed reply → `error` with the
 *   relayer's code (104112 …) and, when it answers our sub, a reconnect (a socket without a subscription is silent).
 * - no client heartbeat: the relayer pings; `idleTimeoutMs` of silence → the session reconnects.
 * The ApiKey never goes into an error, a log line or a session event; one-time keys appear masked.
 */
export class LoopringClient implements VenueClient {
  readonly venue = 'loopring' as const;
  readonly apiVersion = LOOPRING_API_VERSION;
  readonly idleTimeoutMs: number;
  /** REST reconciliation (./README.md "Reconciliation"); absent when no `accountId` is configured */
  readonly reconciler?: VenueReconciler;

  readonly #config: LoopringClientConfig;
  readonly #fetch: typeof globalThis.fetch;
  readonly #log: Logger | undefined;
  #wsApiKey: string | undefined;
  #sequence = 0;
  /** sequence of our sub on this connection, until its reply arrives */
  #pending: number | undefined;
  #pingsAnswered = 0;

  constructor(config: LoopringClientConfig, deps: LoopringClientDeps = {}) {
    this.#config = config;
    this.#fetch = deps.fetch ?? globalThis.fetch;
    this.#log = deps.logger;
    this.idleTimeoutMs = config.idleTimeoutMs;
    if (config.accountId !== undefined) {
      this.reconciler = new LoopringReconciler({
        restUrl: config.restUrl,
        apiKey: config.apiKey,
        accountId: config.accountId,
        markets: config.markets,
        restApi: config.restApi,
        pageSize: config.pageSize,
      });
    }
  }

  /** Validates raw configuration (throws ConfigError listing every problem) and builds a client. */
  static fromConfig(input: unknown, deps?: LoopringClientDeps): LoopringClient {
    return new LoopringClient(parseConfig(loopringClientConfigSchema, input), deps);
  }

  /** The one-time key of the current connection, masked, for health output. */
  get wsApiKeyMasked(): string | undefined {
    return this.#wsApiKey === undefined ? undefined : maskLoopringKey(this.#wsApiKey);
  }

  /** Pongs sent so far (one per relayer ping), for health output and tests. */
  get pongsSent(): number {
    return this.#pingsAnswered;
  }

  async prepare(signal: AbortSignal): Promise<ConnectTarget> {
    this.#wsApiKey = undefined;
    this.#pending = undefined;
    const key = await this.#fetchWsApiKey(signal);
    this.#wsApiKey = key;
    this.#log?.info({ wsApiKeyMasked: maskLoopringKey(key) }, 'loopring one-time ws key obtained');
    const url = new URL(this.#config.wsUrl);
    url.searchParams.set('wsApiKey', key);
    return { url: url.toString() };
  }

  onOpen(io: SessionIO): void {
    if (this.#wsApiKey === undefined) throw new Error('LoopringClient.onOpen before prepare(): no wsApiKey');
    const sequence = ++this.#sequence;
    this.#pending = sequence;
    io.send(
      JSON.stringify({
        op: 'sub',
        sequence,
        apiKey: this.#config.apiKey.reveal(),
        unsubscribeAll: true,
        topics: this.#config.markets.map((market) => ({ topic: 'order', market })),
      }),
    );
  }

  onFrame(text: string, io: SessionIO): void {
    if (text === LOOPRING_PING) {
      // One pong per ping, and only then: an unsolicited pong gets the socket closed (LRV2 overview.md).
      this.#pingsAnswered++;
      io.send(LOOPRING_PONG);
      return;
    }
    // Pushes are the bulk of the traffic and already handed on raw: only replies (`"result"`) are looked at.
    if (text.charCodeAt(0) !== 123 || !text.includes('"result"')) return;
    let reply;
    try {
      const routed = routeLoopringFrame(text);
      if (routed.kind !== 'reply') return;
      reply = parseLoopringReply(routed.value);
    } catch {
      return; // not for the client to judge; the normalizer dead-letters what it cannot read
    }
    // Ours: the reply echoes our sequence; a reply without one (the 104115 example has none) while our sub is
    // unanswered is taken as ours too.
    const ours = this.#pending !== undefined && (reply.sequence === this.#pending || reply.sequence === null);
    const details: Record<string, unknown> = {};
    if (reply.sequence !== null) details.sequence = reply.sequence;
    if (reply.op !== null) details.op = reply.op;
    if (reply.ok) {
      if (!ours) return;
      this.#pending = undefined;
      io.event({ event: 'authenticated', details: { wsApiKey: this.wsApiKeyMasked, apiKey: 'accepted' } });
      io.event({
        event: 'subscribed',
        details: { ...details, topics: this.#config.markets.map((market) => ({ topic: 'order', market })) },
      });
      return;
    }
    const code = reply.code ?? undefined;
    const said = `${code !== undefined ? `code ${code}` : `status ${reply.status}`}${reply.message ? `: ${this.#scrub(reply.message)}` : ''}`;
    io.event({
      event: 'error',
      reason: ours ? `Loopring refused the subscription (${said})` : `Loopring error reply (${said})`,
      ...(code !== undefined ? { code } : {}),
      details,
    });
    if (ours) {
      this.#pending = undefined;
      // Not subscribed means no data while pings keep the socket looking healthy: start over (new key, backoff).
      io.reconnect(`subscription refused (${code !== undefined ? `code ${code}` : reply.status})`, code);
    }
  }

  /** Venue messages are copied into events; make sure no credential rides along. */
  #scrub(text: string): string {
    let s = text.length > 200 ? `${text.slice(0, 197)}...` : text;
    const apiKey = this.#config.apiKey.reveal();
    if (apiKey.length > 0) s = s.split(apiKey).join('[redacted]');
    if (this.#wsApiKey) s = s.split(this.#wsApiKey).join(maskLoopringKey(this.#wsApiKey));
    return s;
  }

  async #fetchWsApiKey(signal: AbortSignal): Promise<string> {
    const cfg = this.#config;
    const url = `${cfg.restUrl.replace(/\/+$/, '')}${LOOPRING_WS_KEY_PATH}`;
    const timeout = AbortSignal.timeout(cfg.requestTimeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const what = `Loopring ws key request (GET ${LOOPRING_WS_KEY_PATH})`;

    let status: number;
    let body: string;
    try {
      const res = await this.#fetch(url, { method: 'GET', headers: { accept: 'application/json' }, signal: combined });
      status = res.status;
      body = await res.text();
    } catch (error) {
      if (signal.aborted) throw new VenueError('VENUE_HTTP_ERROR', `${what} aborted: session stopping`);
      if (timeout.aborted) throw new VenueError('VENUE_HTTP_ERROR', `${what} timed out after ${cfg.requestTimeoutMs} ms`, { retriable: true });
      throw new VenueError('VENUE_HTTP_ERROR', `${what} failed: ${errorMessage(error)}${causeText(error)}`, { retriable: true, details: { url } });
    }

    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const parsed = keyReplySchema.safeParse(json);
    const r = parsed.success ? parsed.data : undefined;
    const code = r?.resultInfo?.code;
    const venueCode = code === undefined || code === null || String(code) === '0' ? undefined : String(code);
    const key = typeof r?.data === 'string' ? r.data : typeof r?.key === 'string' ? r.key : undefined;
    if (status >= 200 && status < 300 && venueCode === undefined && key !== undefined && key.length > 0) return key;

    const venueMessage = r?.resultInfo?.message ?? (r ? '' : `non-JSON body: ${body.slice(0, 80)}`);
    const details = { httpStatus: status, venueCode: venueCode ?? null, venueMessage, url };
    const said = `HTTP ${status}${venueCode ? `, code ${venueCode}` : ''}${venueMessage ? ` (${venueMessage})` : ''}`;
    // 5xx (the endpoint has been seen answering 502: hummingbot #2620) and 429 are worth retrying.
    if (status === 429 || status >= 500) throw new VenueError('VENUE_HTTP_ERROR', `${what} failed: ${said}`, { retriable: true, details });
    if (status >= 200 && status < 300 && venueCode === undefined) {
      throw new VenueError('VENUE_HTTP_ERROR', `${what}: success reply without a key in "data" (or "key")`, { details });
    }
    throw new VenueError('VENUE_HTTP_ERROR', `${what} refused: ${said}`, { details });
  }
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? ` (${cause.message})` : '';
}
