import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, Secret, VenueError } from '@orderstream/kit';
import { RecordingIO } from '../sim/recording-session.js';
import { XtClient, xtClientConfigSchema, type XtClientConfigInput } from './client.js';
import { XT_LISTEN_KEY_PATH, xtSignature, xtStringToSign } from './sign.js';

const KEY = 'AK-test-0001';
const SECRET = 'sk-very-secret-0001';
const LISTEN_KEY = '3BC1D71D6CF96DA3458FC35B05B633351684511731128';

const baseConfig: XtClientConfigInput = {
  restUrl: 'https://fapi.example.test/',
  wsUrl: 'wss://fstream.example.test/ws/user',
  apiKey: KEY,
  apiSecret: SECRET,
};

interface Call {
  url: string;
  headers: Record<string, string>;
}

function fakeFetch(reply: (call: Call) => Response | Promise<Response>, calls: Call[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(input), headers: { ...(init?.headers as Record<string, string>) } };
    calls.push(call);
    const signal = init?.signal;
    return await new Promise<Response>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      Promise.resolve(reply(call)).then(resolve, reject);
    });
  }) as typeof fetch;
}

const okKey = () => new Response(JSON.stringify({ returnCode: 0, msgInfo: 'success', error: null, result: LISTEN_KEY }), { status: 200 });

function client(overrides: Partial<XtClientConfigInput> = {}, deps: ConstructorParameters<typeof XtClient>[1] = {}) {
  return XtClient.fromConfig({ ...baseConfig, ...overrides }, deps);
}

async function connected(now = () => 1_700_000_000_000) {
  const c = client({}, { fetch: fakeFetch(okKey), now });
  await c.prepare(new AbortController().signal);
  const io = new RecordingIO();
  c.onOpen(io);
  return { c, io };
}

/** Nothing a client records may contain a credential or the full listen key. */
function expectNoSecrets(text: string) {
  for (const s of [KEY, SECRET, LISTEN_KEY]) expect(text).not.toContain(s);
}

describe('xtClientConfigSchema', () => {
  it('applies the defaults and wraps credentials as Secrets', () => {
    const cfg = xtClientConfigSchema.parse(baseConfig);
    expect(cfg.pingIntervalMs).toBe(20_000);
    expect(cfg.listenKeyRefreshMs).toBe(7 * 60 * 60 * 1000);
    expect(cfg.recvWindowMs).toBe(5_000);
    expect(cfg.apiKey).toBeInstanceOf(Secret);
    expect(cfg.apiSecret).toBeInstanceOf(Secret);
    expect(JSON.stringify(cfg)).not.toContain(SECRET);
    expect(inspect(cfg)).not.toContain(SECRET);
  });

  it('accepts numbers as strings (environment values)', () => {
    expect(xtClientConfigSchema.parse({ ...baseConfig, pingIntervalMs: '15000' }).pingIntervalMs).toBe(15_000);
  });

  it('refuses a ping interval of 30 s or more, a refresh beyond the 8 h key life, and lists every problem', () => {
    let error: unknown;
    try {
      XtClient.fromConfig({ ...baseConfig, pingIntervalMs: 30_000, listenKeyRefreshMs: 8 * 60 * 60 * 1000, wsUrl: 'https://x', apiSecret: '', extra: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('pingIntervalMs: must be below 30000');
    expect(problems).toContain('listenKeyRefreshMs: must be below 8 h');
    expect(problems).toContain('wsUrl: must be an ws(s) URL');
    expect(problems).toContain('apiSecret: must not be empty');
    expect(problems).toContain('extra');
  });

  it('derives the idle timeout from the ping interval unless set', () => {
    expect(client({ pingIntervalMs: 1_000 }).idleTimeoutMs).toBe(7_000);
    expect(client({ idleTimeoutMs: 0 }).idleTimeoutMs).toBe(0);
  });
});

describe('signing (PROTOCOLS.md 1.2, XTREPO signSteps.md)', () => {
  it('signs "validate-appkey=<k>&validate-timestamp=<ts>#<path>" with hex HMAC-SHA256', () => {
    // The doc's demonstration credentials; the expected value is computed here from the literal string.
    const appKey = '3976eb88-76d0-4f6e-a6b2-a57980770085';
    const secret = 'bc6630d0231fda5cd98794f52c4998659beda290';
    const literal = 'validate-appkey=3976eb88-76d0-4f6e-a6b2-a57980770085&validate-timestamp=1641446237201#/future/user/v1/user/listen-key';
    const input = { appKey, timestamp: '1641446237201', path: XT_LISTEN_KEY_PATH };
    expect(xtStringToSign(input)).toBe(literal);
    expect(xtSignature(secret, input)).toBe(createHmac('sha256', secret).update(literal).digest('hex'));
    expect(xtStringToSign({ ...input, query: 'a=1&b=2', body: '{"x":1}' })).toBe(`${literal}#a=1&b=2#{"x":1}`);
  });
});

describe('prepare(): the listen key', () => {
  it('sends a signed GET and returns the socket URL', async () => {
    const calls: Call[] = [];
    const c = client({ recvWindowMs: 7000 }, { fetch: fakeFetch(okKey, calls), now: () => 1_700_000_000_123 });
    const target = await c.prepare(new AbortController().signal);
    expect(target).toEqual({ url: 'wss://fstream.example.test/ws/user' });
    expect(calls).toHaveLength(1);
    const { url, headers } = calls[0] as Call;
    expect(url).toBe('https://fapi.example.test/future/user/v1/user/listen-key');
    expect(headers['validate-appkey']).toBe(KEY);
    expect(headers['validate-timestamp']).toBe('1700000000123');
    expect(headers['validate-recvwindow']).toBe('7000');
    expect(headers['validate-signature']).toBe(
      createHmac('sha256', SECRET).update(`validate-appkey=${KEY}&validate-timestamp=1700000000123#/future/user/v1/user/listen-key`).digest('hex'),
    );
    expect(c.listenKeyMasked).toBe('3BC1…');
  });

  async function refusal(status: number, body: string): Promise<VenueError> {
    const c = client({}, { fetch: fakeFetch(() => new Response(body, { status })) });
    const error = await c.prepare(new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VenueError);
    expectNoSecrets(`${(error as Error).message} ${JSON.stringify((error as VenueError).details)}`);
    expect((error as Error).message).not.toMatch(/[0-9a-f]{64}/); // no signature
    return error as VenueError;
  }

  it('a refused signature is VENUE_AUTH_FAILED with the venue code, not retriable', async () => {
    const e = await refusal(401, '{"returnCode":1,"msgInfo":"failure","error":{"code":"AUTH_103","msg":"Signature error"},"result":null}');
    expect(e.code).toBe('VENUE_AUTH_FAILED');
    expect(e.retriable).toBe(false);
    expect(e.message).toContain('HTTP 401, code AUTH_103 (Signature error)');
    expect(e.details).toMatchObject({ httpStatus: 401, venueCode: 'AUTH_103' });
  });

  it('a stale timestamp (AUTH_105) is retriable: a new timestamp may pass', async () => {
    const e = await refusal(401, '{"returnCode":1,"msgInfo":"failure","error":{"code":"AUTH_105","msg":"outdated message"},"result":null}');
    expect(e.code).toBe('VENUE_AUTH_FAILED');
    expect(e.retriable).toBe(true);
  });

  it('an application error on HTTP 200 (returnCode 1) carries its code', async () => {
    const e = await refusal(200, '{"returnCode":1,"msgInfo":"failure","error":{"code":"invalid_params","msg":"bad"},"result":null}');
    expect(e.code).toBe('VENUE_HTTP_ERROR');
    expect(e.details.venueCode).toBe('invalid_params');
    expect(e.retriable).toBe(false);
  });

  it('server errors and rate limits are retriable', async () => {
    expect((await refusal(503, 'Service Unavailable')).retriable).toBe(true);
    expect((await refusal(429, '{}')).retriable).toBe(true);
  });

  it('a success without a key is an error', async () => {
    const e = await refusal(200, '{"returnCode":0,"msgInfo":"success","error":null,"result":{}}');
    expect(e.message).toContain('without a listen key');
  });

  it('times out with a retriable VenueError', async () => {
    const c = client({ requestTimeoutMs: 100 }, { fetch: fakeFetch(() => new Promise<Response>(() => {})) });
    const e = (await c.prepare(new AbortController().signal).catch((x: unknown) => x)) as VenueError;
    expect(e.code).toBe('VENUE_HTTP_ERROR');
    expect(e.retriable).toBe(true);
    expect(e.message).toContain('timed out after 100 ms');
  });

  it('a network failure is a retriable VenueError', async () => {
    const c = client({}, { fetch: (async () => { throw new TypeError('fetch failed'); }) as typeof fetch });
    const e = (await c.prepare(new AbortController().signal).catch((x: unknown) => x)) as VenueError;
    expect(e.code).toBe('VENUE_HTTP_ERROR');
    expect(e.retriable).toBe(true);
  });
});

describe('onOpen / onFrame / heartbeat', () => {
  it('subscribes to order@<listenKey> and records "authenticated" with the key masked', async () => {
    const { io } = await connected();
    expect(io.sent).toEqual([`{"method":"SUBSCRIBE","params":["order@${LISTEN_KEY}"],"id":"xt-sub-1"}`]);
    expect(io.events).toEqual([{ event: 'authenticated', details: { listenKey: '3BC1…' } }]);
  });

  it('an ack for our id records "subscribed" (masked topic, sessionId kept)', async () => {
    const { c, io } = await connected();
    c.onFrame('{"code":0,"msg":"success","id":"xt-sub-1","sessionId":"rs-40179"}', io);
    expect(io.events.at(-1)).toEqual({ event: 'subscribed', details: { id: 'xt-sub-1', sessionId: 'rs-40179', topics: ['order@3BC1…'] } });
    c.onFrame('{"id":"someone-else","code":0,"msg":"success"}', io);
    expect(io.events).toHaveLength(2);
    expect(io.reconnects).toEqual([]);
  });

  it('code 1 for our subscribe → "error" with the code, then reconnect', async () => {
    const { c, io } = await connected();
    c.onFrame('{"id":"xt-sub-1","code":1,"msg":"fail"}', io);
    expect(io.events.at(-1)).toMatchObject({ event: 'error', code: 1, reason: 'XT refused the subscription (code 1: fail)' });
    expect(io.reconnects).toEqual([{ reason: 'subscription refused (code 1)', code: 1 }]);
  });

  it('code 1 without an id (reply to bad input) → "error" only', async () => {
    const { c, io } = await connected();
    c.onFrame('{"code":1,"msg":"Invalid parameter","sessionId":"rs-42904"}', io);
    expect(io.events.at(-1)).toEqual({ event: 'error', code: 1, reason: 'XT error reply (code 1: Invalid parameter)', details: { sessionId: 'rs-42904' } });
    expect(io.reconnects).toEqual([]);
  });

  it.each([
    ['{"id":"xt-sub-1","code":2,"msg":"listenKey invalid"}', 2],
    ['{"id":"123","code":401,"msg":"token expire"}', 401],
    ['order@invalid_listenkey', 'invalid_listenkey'],
    ['balance@invalid_listen_key', 'invalid_listen_key'],
  ])('%s → reconnect for a new key (code %s)', async (frame, code) => {
    const { c, io } = await connected();
    c.onFrame(frame, io);
    expect(io.reconnects).toHaveLength(1);
    expect(io.reconnects[0]?.code).toBe(code);
    expect(io.reconnects[0]?.reason).toMatch(/listen key is invalid/);
    expect(io.events.filter((e) => e.event === 'error')).toEqual([]); // an expected key expiry is not an error
  });

  it('ignores pongs, pushes and frames it does not understand', async () => {
    const { c, io } = await connected();
    for (const f of ['pong', '{"topic":"order","event":"order@x","data":{}}', 'garbage', '{"nope":1}', '']) c.onFrame(f, io);
    expect(io.events).toHaveLength(1);
    expect(io.reconnects).toEqual([]);
    expect(io.sent).toHaveLength(1);
  });

  it('never copies the listen key from a venue message into an event', async () => {
    const { c, io } = await connected();
    c.onFrame(`{"code":7,"msg":"odd key ${LISTEN_KEY}"}`, io);
    expectNoSecrets(JSON.stringify(io.events));
    expect(io.events.at(-1)?.reason).toContain('3BC1…');
  });

  it('heartbeat sends text ping and reconnects once the key is older than listenKeyRefreshMs', async () => {
    let now = 1_000_000;
    const c = client({ pingIntervalMs: 100, listenKeyRefreshMs: 5_000 }, { fetch: fakeFetch(okKey), now: () => now });
    await c.prepare(new AbortController().signal);
    const io = new RecordingIO();
    c.onOpen(io);
    expect(c.heartbeat.intervalMs).toBe(100);
    now += 4_999;
    c.heartbeat.beat(io);
    expect(io.sent.at(-1)).toBe('ping');
    expect(io.reconnects).toEqual([]);
    now += 1;
    c.heartbeat.beat(io);
    expect(io.reconnects).toHaveLength(1);
    expect(io.reconnects[0]?.reason).toContain('listen key is 5000 ms old');
  });

  it('onOpen before prepare throws (the session turns it into a reconnect)', () => {
    expect(() => client().onOpen(new RecordingIO())).toThrow(/before prepare/);
  });
});
