import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, Secret, VenueError } from '@orderstream/kit';
import { RecordingIO } from '../sim/recording-session.js';
import { LoopringClient, loopringClientConfigSchema, maskLoopringKey, type LoopringClientConfigInput } from './client.js';
import { loopringFixture } from './fixtures.js';

const API_KEY = 'lrc-api-key-very-secret-0001';
const WS_KEY = 'fx2xW5hoVFbcaanWS'; // the v3 doc's example key

const baseConfig: LoopringClientConfigInput = {
  restUrl: 'https://api.example.test/',
  wsUrl: 'wss://ws.example.test/v2/ws',
  apiKey: API_KEY,
  markets: ['LRC-ETH', 'LRC-USDT'],
};

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(reply: (call: Call) => Response | Promise<Response>, calls: Call[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(input), init };
    calls.push(call);
    const signal = init?.signal;
    return await new Promise<Response>((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      Promise.resolve(reply(call)).then(resolve, reject);
    });
  }) as typeof fetch;
}

const v2Key = (key = WS_KEY) => new Response(JSON.stringify({ resultInfo: { code: 0, message: 'SUCCESS' }, data: key }), { status: 200 });

function client(overrides: Partial<LoopringClientConfigInput> = {}, fetchImpl: typeof fetch = fakeFetch(() => v2Key())) {
  return LoopringClient.fromConfig({ ...baseConfig, ...overrides }, { fetch: fetchImpl });
}

async function connected() {
  const c = client();
  await c.prepare(new AbortController().signal);
  const io = new RecordingIO();
  c.onOpen(io);
  return { c, io };
}

/** Nothing a client records may contain the ApiKey or the full one-time key. */
function expectNoSecrets(text: string) {
  for (const s of [API_KEY, WS_KEY]) expect(text).not.toContain(s);
}

describe('loopringClientConfigSchema', () => {
  it('applies the defaults and wraps the ApiKey as a Secret', () => {
    const cfg = loopringClientConfigSchema.parse(baseConfig);
    expect(cfg).toMatchObject({ requestTimeoutMs: 10_000, idleTimeoutMs: 75_000, markets: ['LRC-ETH', 'LRC-USDT'] });
    expect(cfg.apiKey).toBeInstanceOf(Secret);
    expect(JSON.stringify(cfg)).not.toContain(API_KEY);
    expect(inspect(cfg)).not.toContain(API_KEY);
  });

  it('accepts numbers as strings (environment values)', () => {
    expect(loopringClientConfigSchema.parse({ ...baseConfig, idleTimeoutMs: '0', requestTimeoutMs: '500' })).toMatchObject({ idleTimeoutMs: 0, requestTimeoutMs: 500 });
  });

  it('lists every problem: markets, URLs, empty key, unknown keys', () => {
    let error: unknown;
    try {
      LoopringClient.fromConfig({ restUrl: 'ftp://x', wsUrl: 'wss://ws.example.test/v2/ws?wsApiKey=abc', apiKey: '', markets: ['lrc-eth', 'LRC-ETH'], extra: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('restUrl: must be an http(s) URL');
    expect(problems).toContain('wsUrl: must not carry a wsApiKey');
    expect(problems).toContain('apiKey: must not be empty');
    expect(problems).toContain('markets[0]: must be a market name like LRC-ETH');
    expect(problems).toContain('extra');
  });

  it.each([
    [[], 'markets: must name at least one market'],
    [['LRC-ETH', 'LRC-ETH'], 'markets: must not name a market twice'],
    [Array.from({ length: 21 }, (_, i) => `T${i}-ETH`), 'markets: must name at most 20 markets'],
    [undefined, 'markets: is required'],
  ])('markets %j → %s', (markets, problem) => {
    expect(() => LoopringClient.fromConfig({ ...baseConfig, markets })).toThrow(problem);
  });
});

describe('prepare(): a one-time key per connection', () => {
  it('GETs <restUrl>/v2/ws/key without credentials and returns <wsUrl>?wsApiKey=<key>', async () => {
    const calls: Call[] = [];
    const c = client({}, fakeFetch(() => v2Key(), calls));
    expect(await c.prepare(new AbortController().signal)).toEqual({ url: `wss://ws.example.test/v2/ws?wsApiKey=${WS_KEY}` });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe('https://api.example.test/v2/ws/key');
    expect(calls[0]?.init?.method).toBe('GET');
    expectNoSecrets(JSON.stringify(calls[0]?.init?.headers));
    expect(c.wsApiKeyMasked).toBe('fx2x…');
  });

  it('fetches a new key on every call (every reconnect)', async () => {
    let n = 0;
    const c = client({}, fakeFetch(() => v2Key(`key${++n}`)));
    const a = await c.prepare(new AbortController().signal);
    const b = await c.prepare(new AbortController().signal);
    expect([a.url, b.url]).toEqual(['wss://ws.example.test/v2/ws?wsApiKey=key1', 'wss://ws.example.test/v2/ws?wsApiKey=key2']);
  });

  it('reads the v3 doc shape {"key":…} too, and keeps other query parameters of wsUrl', async () => {
    const c = client({ wsUrl: 'wss://ws.example.test/v3/ws?x=1' }, fakeFetch(() => new Response(JSON.stringify({ key: WS_KEY }), { status: 200 })));
    expect((await c.prepare(new AbortController().signal)).url).toBe(`wss://ws.example.test/v3/ws?x=1&wsApiKey=${WS_KEY}`);
  });

  async function refusal(status: number, body: string): Promise<VenueError> {
    const c = client({}, fakeFetch(() => new Response(body, { status })));
    const error = await c.prepare(new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VenueError);
    expectNoSecrets(`${(error as Error).message} ${JSON.stringify((error as VenueError).details)}`);
    return error as VenueError;
  }

  it('HTTP 502 (seen in the wild) and 429 are retriable', async () => {
    const e = await refusal(502, '<html>Bad Gateway</html>');
    expect(e).toMatchObject({ code: 'VENUE_HTTP_ERROR', retriable: true });
    expect(e.message).toContain('HTTP 502');
    expect((await refusal(429, '{}')).retriable).toBe(true);
  });

  it('a resultInfo error code is carried as the venue code, not retriable', async () => {
    const e = await refusal(200, '{"resultInfo":{"code":100001,"message":"invalid request"}}');
    expect(e).toMatchObject({ code: 'VENUE_HTTP_ERROR', retriable: false });
    expect(e.details).toMatchObject({ venueCode: '100001', httpStatus: 200 });
    expect(e.message).toContain('code 100001 (invalid request)');
  });

  it('a success without a key is an error', async () => {
    expect((await refusal(200, '{"resultInfo":{"code":0,"message":"SUCCESS"},"data":null}')).message).toContain('without a key');
    expect((await refusal(200, 'not json')).message).toContain('without a key');
  });

  it('times out, or fails on the network, with a retriable VenueError', async () => {
    const slow = client({ requestTimeoutMs: 100 }, fakeFetch(() => new Promise<Response>(() => {})));
    const e = (await slow.prepare(new AbortController().signal).catch((x: unknown) => x)) as VenueError;
    expect(e).toMatchObject({ code: 'VENUE_HTTP_ERROR', retriable: true });
    expect(e.message).toContain('timed out after 100 ms');
    const down = client({}, (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch);
    expect(await down.prepare(new AbortController().signal).catch((x: unknown) => x)).toMatchObject({ code: 'VENUE_HTTP_ERROR', retriable: true });
  });
});

describe('onOpen / onFrame', () => {
  it('sends one sub with the ApiKey, a sequence and an order topic per market', async () => {
    const { io } = await connected();
    expect(io.sent).toEqual([
      `{"op":"sub","sequence":1,"apiKey":"${API_KEY}","unsubscribeAll":true,"topics":[{"topic":"order","market":"LRC-ETH"},{"topic":"order","market":"LRC-USDT"}]}`,
    ]);
    expect(io.events).toEqual([]);
  });

  it('answers text ping with text pong, once per ping, and sends nothing else unasked', async () => {
    const { c, io } = await connected();
    c.onFrame('ping', io);
    c.onFrame('ping', io);
    expect(io.sent.slice(1)).toEqual(['pong', 'pong']);
    for (const f of ['pong', ' ping', 'PING', '{"topic":{"topic":"order"},"data":{}}', 'garbage', '']) c.onFrame(f, io);
    expect(io.sent.slice(1)).toEqual(['pong', 'pong']);
    expect(c.pongsSent).toBe(2);
  });

  it('the ok reply to our sub → "authenticated" and "subscribed" (keys masked)', async () => {
    const { c, io } = await connected();
    c.onFrame(loopringFixture('control.jsonl', 'ack-sub-order').text, io);
    expect(io.events).toEqual([
      { event: 'authenticated', details: { wsApiKey: 'fx2x…', apiKey: 'accepted' } },
      { event: 'subscribed', details: { sequence: 1, op: 'sub', topics: [{ topic: 'order', market: 'LRC-ETH' }, { topic: 'order', market: 'LRC-USDT' }] } },
    ]);
    // a second ok for the same sequence, or someone else's, changes nothing
    c.onFrame(loopringFixture('control.jsonl', 'ack-sub-order').text, io);
    c.onFrame(loopringFixture('control.jsonl', 'ack-sub-doc').text, io);
    expect(io.events).toHaveLength(2);
    expect(io.reconnects).toEqual([]);
    expectNoSecrets(JSON.stringify(io.events));
  });

  it('reads "OK" in upper case and a reply without sequence as the answer to our pending sub', async () => {
    const { c, io } = await connected();
    c.onFrame('{"op":"sub","topics":[{"topic:":"order","market":"LRC-ETH"}],"result":{"status":"OK"}}', io);
    expect(io.events.map((e) => e.event)).toEqual(['authenticated', 'subscribed']);
  });

  it.each([
    ['failed-104112-invalid-api-key', 104112, 'invalid apiKey'],
    ['failed-104104-missing-api-key', 104104, 'apiKey is required'],
    ['failed-104110-bad-order-topic', 104110, 'invalid order topic config: {"topic":"order","market":"XYZ-ABC"}'],
    ['failed-104116-too-many', 104116, 'exceed maximum subscriptions (20)'],
  ])('%s answering our sub → "error" with code %i, then a reconnect', async (name, code, message) => {
    const { c, io } = await connected();
    c.onFrame(loopringFixture('control.jsonl', name).text, io);
    expect(io.events).toEqual([{ event: 'error', code, reason: `Loopring refused the subscription (code ${code}: ${message})`, details: { sequence: 1, op: 'sub' } }]);
    expect(io.reconnects).toEqual([{ reason: `subscription refused (code ${code})`, code }]);
  });

  it('a failure without sequence (the 104115 doc example) while our sub is pending is ours', async () => {
    const { c, io } = await connected();
    c.onFrame(loopringFixture('control.jsonl', 'ack-failed-104115-doc').text, io);
    expect(io.events[0]).toMatchObject({ event: 'error', code: 104115 });
    expect(io.reconnects).toHaveLength(1);
  });

  it('a failure answering another request (after our sub succeeded) → "error" only', async () => {
    const { c, io } = await connected();
    c.onFrame(loopringFixture('control.jsonl', 'ack-sub-order').text, io);
    c.onFrame(loopringFixture('control.jsonl', 'failed-104113-not-subscribed').text, io);
    expect(io.events.at(-1)).toEqual({ event: 'error', code: 104113, reason: 'Loopring error reply (code 104113: not subscribed: order&LRC-ETH)', details: { sequence: 3, op: 'unSub' } });
    expect(io.reconnects).toEqual([]);
  });

  it('ignores pushes and frames it does not understand', async () => {
    const { c, io } = await connected();
    for (const f of [loopringFixture('orders.jsonl', 'seed-doc-example').text, '{"result":', '{"result":{}}', '{"nope":1}', 'garbage']) c.onFrame(f, io);
    expect(io.events).toEqual([]);
    expect(io.reconnects).toEqual([]);
    expect(io.sent).toHaveLength(1);
  });

  it('never copies the ApiKey or the one-time key from a venue message into an event', async () => {
    const { c, io } = await connected();
    c.onFrame(JSON.stringify({ op: 'sub', sequence: 1, topics: [], result: { status: 'failed', error: { code: 104112, message: `bad key ${API_KEY} on ${WS_KEY}` } } }), io);
    expectNoSecrets(JSON.stringify(io.events));
    expect(io.events[0]?.reason).toContain('bad key [redacted] on fx2x…');
    expect(maskLoopringKey('abc')).toBe('…');
  });

  it('onOpen before prepare throws (the session turns it into a reconnect); the sequence grows per connection', async () => {
    expect(() => client().onOpen(new RecordingIO())).toThrow(/before prepare/);
    const { c } = await connected();
    await c.prepare(new AbortController().signal);
    const io = new RecordingIO();
    c.onOpen(io);
    expect(JSON.parse(io.sent[0] as string).sequence).toBe(2);
    expect(c.idleTimeoutMs).toBe(75_000);
  });
});
