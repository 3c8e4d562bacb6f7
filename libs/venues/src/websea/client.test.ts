import { describe, expect, it } from 'vitest';
import { ConfigError } from '@orderstream/kit';
import { RecordingIO } from '../sim/recording-session.js';
import { WEBSEA_AUTH_ERRNOS, WEBSEA_ERRNO, WebseaClient, webseaClientConfigSchema, type WebseaClientConfigInput, type WebseaClientDeps } from './client.js';
import { webseaFixture } from './fixtures.js';
import { webseaSubscribeSignature } from './sign.js';

const TOKEN = '57ba172a6be125c';
const SECRET = 'ca2f449826f9980ca';
const NOW = 1_534_927_978_500;

function client(over: Partial<WebseaClientConfigInput> = {}, deps: WebseaClientDeps = {}) {
  return WebseaClient.fromConfig(
    { wsUrl: 'wss://oapi.websea.com/ws/v1/spot/order', token: TOKEN, secretKey: SECRET, ...over },
    { now: () => NOW, nonce: () => '1534927978_ab43c', ...deps },
  );
}

async function opened(c: WebseaClient) {
  const f = new RecordingIO();
  await c.prepare(new AbortController().signal);
  c.onOpen(f);
  return f;
}

describe('configuration', () => {
  it('defaults: ping 10 s, idle 2 × ping + 5 s, byte-wise sort, no op/channel signed', () => {
    const cfg = webseaClientConfigSchema.parse({ wsUrl: 'wss://oapi.websea.com/ws/v1/spot/order', token: 't', secretKey: 's' });
    expect(cfg).toMatchObject({ pingIntervalMs: 10_000, subscribeTimeoutMs: 10_000, signatureSort: 'bytewise', signSubscribeParams: false });
    expect(client().idleTimeoutMs).toBe(25_000);
    expect(client({ idleTimeoutMs: 0 }).idleTimeoutMs).toBe(0);
    expect(client({ pingIntervalMs: '5000' as unknown as number }).heartbeat.intervalMs).toBe(5_000);
  });

  it('lists every problem at once and never prints a secret', () => {
    let error: unknown;
    try {
      WebseaClient.fromConfig({ wsUrl: 'https://oapi.websea.com', secretKey: '', pingIntervalMs: 30_000, extra: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/wsUrl: must be a ws\(s\) URL including the path/);
    expect(problems).toMatch(/token: is required/);
    expect(problems).toMatch(/secretKey: must not be empty/);
    expect(problems).toMatch(/pingIntervalMs: must be at most 15000/);
    expect(problems).toMatch(/unknown field\(s\) "extra"/);
    const cfg = webseaClientConfigSchema.parse({ wsUrl: 'ws://127.0.0.1:1/ws/v1/spot/order', token: TOKEN, secretKey: SECRET });
    expect(JSON.stringify(cfg)).not.toContain(SECRET);
    expect(JSON.stringify(cfg)).not.toContain(TOKEN);
  });

  it('a URL without a path is refused (the path is part of the endpoint)', () => {
    expect(webseaClientConfigSchema.safeParse({ wsUrl: 'wss://oapi.websea.com', token: 't', secretKey: 's' }).success).toBe(false);
    expect(webseaClientConfigSchema.safeParse({ wsUrl: 'wss://oapi.websea.com/', token: 't', secretKey: 's' }).success).toBe(false);
  });
});

describe('subscribe', () => {
  it('prepare() returns the configured URL; onOpen sends the documented sub message with a signed fresh nonce', async () => {
    const c = client();
    expect(await c.prepare(new AbortController().signal)).toEqual({ url: 'wss://oapi.websea.com/ws/v1/spot/order' });
    const f = new RecordingIO();
    c.onOpen(f);
    expect(f.sent).toEqual([
      JSON.stringify({ op: 'sub', channel: 'order', token: TOKEN, Nonce: '1534927978_ab43c', Signature: '7202c523d431f5b77ccbd04f1810d78a8218de1b' }),
    ]);
    expect(f.events).toEqual([]);
  });

  it('uses a real nonce by default: <now seconds>_<5 chars>, a new one per connection', async () => {
    const c = WebseaClient.fromConfig({ wsUrl: 'ws://127.0.0.1:1/ws/v1/spot/order', token: TOKEN, secretKey: SECRET }, { now: () => NOW });
    const a = JSON.parse((await opened(c)).sent[0] as string) as { Nonce: string; Signature: string };
    const b = JSON.parse((await opened(c)).sent[0] as string) as { Nonce: string; Signature: string };
    expect(a.Nonce).toMatch(/^1534927978_[a-z0-9]{5}$/);
    expect(b.Nonce).not.toBe(a.Nonce);
    expect(a.Signature).toBe(webseaSubscribeSignature({ token: TOKEN, secretKey: SECRET, nonce: a.Nonce }));
  });

  it('signSubscribeParams / signatureSort change what is signed', async () => {
    const withParams = JSON.parse((await opened(client({ signSubscribeParams: true }))).sent[0] as string);
    expect(withParams.Signature).toBe('85051d4e16bc821fa80f5d7e369c0b33202ee3e0');
    const mixed = 'D57BA172A6BE125C';
    const ci = JSON.parse((await opened(client({ token: mixed, signatureSort: 'case-insensitive' }))).sent[0] as string);
    expect(ci.Signature).toBe(webseaSubscribeSignature({ token: mixed, secretKey: SECRET, nonce: '1534927978_ab43c', order: 'case-insensitive' }));
    expect(ci.Signature).not.toBe(webseaSubscribeSignature({ token: mixed, secretKey: SECRET, nonce: '1534927978_ab43c' }));
  });
});

describe('replies', () => {
  it('ack → authenticated + subscribed (once)', async () => {
    const c = client();
    const f = await opened(c);
    c.onFrame(webseaFixture('control.jsonl', 'ack-doc').text, f);
    expect(f.events).toEqual([
      { event: 'authenticated', details: { channel: 'order' } },
      { event: 'subscribed', details: { channel: 'order', op: 'sub' } },
    ]);
    expect(c.subscribed).toBe(true);
    c.onFrame(webseaFixture('control.jsonl', 'ack-doc').text, f);
    expect(f.events).toHaveLength(2);
    expect(f.reconnects).toEqual([]);
  });

  it('an ack without op or channel counts while our subscribe waits', async () => {
    const c = client();
    const f = await opened(c);
    c.onFrame('{"errno":0,"errmsg":"success"}', f);
    expect(f.events.map((e) => e.event)).toEqual(['authenticated', 'subscribed']);
  });

  it.each([20506, 20519, 20520, 20521, 20522, 20523, 20529, 20401, 20530])(
    'auth errno %i refusing our subscribe → error event with the code, reconnect with the code',
    async (errno) => {
      const c = client();
      const f = await opened(c);
      c.onFrame(webseaFixture('control.jsonl', `error-${errno}`).text, f);
      const msg = WEBSEA_ERRNO[errno as keyof typeof WEBSEA_ERRNO];
      expect(f.events).toEqual([
        {
          event: 'error',
          reason: `WebSea refused the order subscription: errno ${errno} (${msg})`,
          code: errno,
          details: { op: 'sub', channel: 'order', auth: true },
        },
      ]);
      expect(f.reconnects).toEqual([{ reason: `WebSea authentication failed: errno ${errno} (${msg})`, code: errno }]);
      expect(c.subscribed).toBe(false);
    },
  );

  it('every listed auth errno is one the docs name', () => {
    for (const errno of WEBSEA_AUTH_ERRNOS) expect(WEBSEA_ERRNO).toHaveProperty(String(errno));
  });

  it('a non-auth refusal of our subscribe (50009) → error event and reconnect', async () => {
    const c = client();
    const f = await opened(c);
    c.onFrame('{"channel":"order","errmsg":"WS channel unavailable.","errno":50009,"op":"sub"}', f);
    expect(f.events).toEqual([
      { event: 'error', reason: 'WebSea refused the order subscription: errno 50009 (WS channel unavailable.)', code: 50009, details: { op: 'sub', channel: 'order', auth: false } },
    ]);
    expect(f.reconnects).toEqual([{ reason: 'subscription refused: errno 50009 (WS channel unavailable.)', code: 50009 }]);
  });

  it('a non-auth error after the subscription → error event only', async () => {
    const c = client();
    const f = await opened(c);
    c.onFrame(webseaFixture('control.jsonl', 'ack-doc').text, f);
    c.onFrame(webseaFixture('control.jsonl', 'error-51000-unknown-op').text, f);
    expect(f.events.at(-1)).toEqual({ event: 'error', reason: 'WebSea error reply: errno 51000 (unsupported op)', code: 51000, details: { op: 'ping', channel: '', auth: false } });
    expect(f.reconnects).toEqual([]);
  });

  it('an auth error after the subscription (key expired) → error event and reconnect', async () => {
    const c = client();
    const f = await opened(c);
    c.onFrame(webseaFixture('control.jsonl', 'ack-doc').text, f);
    c.onFrame(webseaFixture('control.jsonl', 'error-20529').text, f);
    expect(f.events.at(-1)?.code).toBe(20529);
    expect(f.reconnects).toEqual([{ reason: 'WebSea authentication failed: errno 20529 (API Key expired)', code: 20529 }]);
  });

  it('pushes, unknown text and malformed replies cause nothing (the normalizer judges them)', async () => {
    const c = client();
    const f = await opened(c);
    for (const text of [
      webseaFixture('orders.jsonl', 'limit-trade-partial').text,
      'hello',
      '{"errno":"bad"}',
      webseaFixture('malformed.jsonl', 'not-json-truncated').text,
    ]) {
      expect(() => c.onFrame(text, f)).not.toThrow();
    }
    expect(f.events).toEqual([]);
    expect(f.reconnects).toEqual([]);
  });

  it('scrubs credentials out of venue messages', async () => {
    const c = client();
    const f = await opened(c);
    c.onFrame(JSON.stringify({ errno: 20522, errmsg: `no user for ${TOKEN}`, op: 'sub', channel: 'order' }), f);
    expect(JSON.stringify(f.events)).not.toContain(TOKEN);
    expect(JSON.stringify(f.reconnects)).not.toContain(TOKEN);
    expect(f.events[0]?.reason).toContain('no user for [redacted]');
  });
});

describe('heartbeat', () => {
  it('each beat sends a WebSocket control ping (never a text frame)', async () => {
    const c = client();
    const f = await opened(c);
    c.onFrame(webseaFixture('control.jsonl', 'ack-doc').text, f);
    c.heartbeat.beat(f);
    c.heartbeat.beat(f);
    expect(f.pings).toBe(2);
    expect(f.sent).toHaveLength(1); // only the subscribe
    expect(f.reconnects).toEqual([]);
  });

  it('no answer to the subscribe within subscribeTimeoutMs → reconnect', async () => {
    let now = NOW;
    const c = client({ subscribeTimeoutMs: 1_000 }, { now: () => now });
    const f = await opened(c);
    now += 999;
    c.heartbeat.beat(f);
    expect(f.reconnects).toEqual([]);
    now += 1;
    c.heartbeat.beat(f);
    expect(f.reconnects).toEqual([{ reason: 'no answer to the order subscription within 1000 ms' }]);
  });
});
