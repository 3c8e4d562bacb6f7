import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, Secret } from '@orderstream/kit';
import { RecordingIO } from '../sim/recording-session.js';
import { BsxClient, bsxClientConfigSchema, maskBsxKey, type BsxClientConfigInput } from './client.js';
import { bsxFixture } from './fixtures.js';
import { bsxAuthSignature } from './sign.js';

const KEY = '1fda404d8f84ce7de5611a7f0d310325';
const SECRET = '1fda404d8f84ce7de5611a7f0d3103251fda404d8f84ce7de5611a7f0d310325';

const baseConfig: BsxClientConfigInput = { wsUrl: 'wss://ws.example.test/ws', apiKey: KEY, apiSecret: SECRET };

const control = (name: string) => bsxFixture('control.jsonl', name).text;

async function opened(nowNs = () => '1701918382000000000', overrides: Partial<BsxClientConfigInput> = {}) {
  const c = BsxClient.fromConfig({ ...baseConfig, subscribeTimeoutMs: 0, ...overrides }, { nowNs });
  const target = await c.prepare(new AbortController().signal);
  const io = new RecordingIO();
  c.onOpen(io);
  return { c, io, target };
}

function expectNoSecrets(io: RecordingIO) {
  const text = JSON.stringify([io.events, io.reconnects]);
  for (const s of [KEY, SECRET]) expect(text).not.toContain(s);
}

describe('bsxClientConfigSchema', () => {
  it('applies the defaults (15 s ping) and wraps credentials as Secrets', () => {
    const cfg = bsxClientConfigSchema.parse(baseConfig);
    expect(cfg.pingIntervalMs).toBe(15_000);
    expect(cfg.subscribeTimeoutMs).toBe(10_000);
    expect(cfg.apiKey).toBeInstanceOf(Secret);
    expect(cfg.apiSecret).toBeInstanceOf(Secret);
    expect(JSON.stringify(cfg)).not.toContain(SECRET);
    expect(inspect(cfg)).not.toContain(SECRET);
  });

  it('accepts numbers as strings (environment values)', () => {
    expect(bsxClientConfigSchema.parse({ ...baseConfig, pingIntervalMs: '5000' }).pingIntervalMs).toBe(5_000);
  });

  it('refuses a ping interval of 10 min or more, a non-ws URL, empty secrets, unknown keys, and lists every problem', () => {
    let error: unknown;
    try {
      BsxClient.fromConfig({ ...baseConfig, pingIntervalMs: 600_000, wsUrl: 'https://x', apiSecret: '', extra: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('pingIntervalMs: must be below 600000');
    expect(problems).toContain('wsUrl: must be an ws(s) URL');
    expect(problems).toContain('apiSecret: must not be empty');
    expect(problems).toContain('extra');
  });

  it('derives the idle timeout from the ping interval unless set', () => {
    expect(BsxClient.fromConfig(baseConfig).idleTimeoutMs).toBe(35_000);
    expect(BsxClient.fromConfig({ ...baseConfig, idleTimeoutMs: 0 }).idleTimeoutMs).toBe(0);
  });
});

describe('BsxClient protocol', () => {
  it('prepare() returns the socket URL; onOpen signs with a fresh ns timestamp (documented vector)', async () => {
    const { io, target, c } = await opened();
    expect(target).toEqual({ url: 'wss://ws.example.test/ws' });
    expect(io.sent).toHaveLength(1);
    expect(JSON.parse(io.sent[0] as string)).toEqual({
      op: 'auth',
      data: { key: KEY, timestamp: '1701918382000000000', signature: '38dbb4921a2b7ac974aa24d3a832f722a03c1b94126972fff538f39beb73caac' },
    });
    expect(c.phase).toBe('authenticating');
  });

  it('subscribes only after "authenticated"; the ack or the snapshot (whichever first) means subscribed, once', async () => {
    const { io, c } = await opened();
    c.onFrame(control('doc-connection-id-auth'), io);
    expect(io.sent).toHaveLength(1);
    c.onFrame(control('doc-authenticated'), io);
    expect(io.sent[1]).toBe('{"op":"sub","channel":"orders"}');
    expect(io.events).toEqual([{ event: 'authenticated', details: { apiKey: maskBsxKey(KEY), connectionId: '8fdad76b-bf71-42ea-9792-a1bdfbc245d2' } }]);
    c.onFrame(control('orders-subscribed'), io);
    c.onFrame(bsxFixture('orders.jsonl', 'doc-snapshot').text, io);
    expect(io.events.slice(1)).toEqual([{ event: 'subscribed', details: { channel: 'orders', via: 'ack', connectionId: '8fdad76b-bf71-42ea-9792-a1bdfbc245d2' } }]);
    expect(c.phase).toBe('subscribed');
    expect(io.reconnects).toEqual([]);
    expectNoSecrets(io);
  });

  it('without an orders ack, the snapshot is the subscription confirmation', async () => {
    const { io, c } = await opened();
    c.onFrame(control('doc-authenticated'), io);
    c.onFrame(bsxFixture('orders.jsonl', 'snapshot-empty').text, io);
    expect(io.events.map((e) => [e.event, e.details?.via])).toEqual([['authenticated', undefined], ['subscribed', 'snapshot']]);
  });

  it.each([
    ['doc-auth-error-key-not-found', 'BSX refused authentication: api key not found (code 400)'],
    ['doc-auth-error-timestamp-drift', 'BSX refused authentication: timestamp should be closed to current timestamp (100.854776s) (code 400)'],
    ['doc-error-timestamp-no-channel', 'BSX refused authentication: timestamp should be close to current timestamp (code 400)'],
  ])('%s → an error event with code 400 and a reconnect (new timestamp next time)', async (name, reason) => {
    const { io, c } = await opened();
    c.onFrame(control(name), io);
    expect(io.events).toEqual([{ event: 'error', reason, code: 400, details: { channel: 'auth' } }]);
    expect(io.reconnects).toHaveLength(1);
    expect(io.reconnects[0]?.code).toBe(400);
    expect(io.sent).toHaveLength(1); // no subscribe after a refused auth
  });

  it('"not authenticated" (401) on the orders subscription → error event with 401 and a reconnect', async () => {
    const { io, c } = await opened();
    c.onFrame(control('doc-authenticated'), io);
    c.onFrame(control('doc-orders-error-not-authenticated'), io);
    expect(io.events[1]).toEqual({ event: 'error', reason: 'BSX refused the orders subscription: not authenticated (code 401)', code: 401, details: { channel: 'orders' } });
    expect(io.reconnects).toEqual([{ reason: 'orders subscription refused: not authenticated (code 401)', code: 401 }]);
  });

  it('an error about another channel is recorded but does not reconnect', async () => {
    const { io, c } = await opened();
    c.onFrame(control('doc-authenticated'), io);
    c.onFrame(control('orders-subscribed'), io);
    c.onFrame(control('doc-trades-error-unsupported'), io);
    expect(io.events.at(-1)).toMatchObject({ event: 'error', code: 400, details: { channel: 'trades' } });
    expect(io.reconnects).toEqual([]);
  });

  it('the shutdown notice → reconnect with its text', async () => {
    const { io, c } = await opened();
    c.onFrame(control('doc-bye-shutdown'), io);
    expect(io.reconnects).toEqual([{ reason: 'BSX is closing the connection: bye - service is shutting down', code: undefined }]);
  });

  it('pongs, other channels\' data and unparseable frames are ignored; order updates are not even parsed once subscribed', async () => {
    const { io, c } = await opened();
    c.onFrame(control('doc-authenticated'), io);
    c.onFrame(control('orders-subscribed'), io);
    const before = io.events.length;
    for (const t of [control('pong'), control('doc-pong-single-quotes'), control('doc-trades-update'), 'garbage', '{"channel":"orders","type":"update","data":[{"broken":']) c.onFrame(t, io);
    expect(io.events).toHaveLength(before);
    expect(io.reconnects).toEqual([]);
  });

  it('heartbeat: {"op":"ping"} every pingIntervalMs', async () => {
    const { io, c } = await opened(undefined, { pingIntervalMs: 5_000 });
    expect(c.heartbeat.intervalMs).toBe(5_000);
    c.heartbeat.beat(io);
    expect(io.sent.at(-1)).toBe('{"op":"ping"}');
  });

  it('every connection authenticates afresh with a strictly later timestamp, even if the clock stands still', async () => {
    const c = BsxClient.fromConfig({ ...baseConfig, subscribeTimeoutMs: 0 }, { nowNs: () => '1701918382000000000' });
    const timestamps: string[] = [];
    for (let i = 0; i < 3; i++) {
      await c.prepare(new AbortController().signal);
      const io = new RecordingIO();
      c.onOpen(io);
      const auth = JSON.parse(io.sent[0] as string) as { data: { timestamp: string; signature: string } };
      expect(auth.data.signature).toBe(bsxAuthSignature(SECRET, KEY, auth.data.timestamp));
      timestamps.push(auth.data.timestamp);
      expect(c.phase).toBe('authenticating');
    }
    expect(timestamps).toEqual(['1701918382000000000', '1701918382000000001', '1701918382000000002']);
  });

  it('no subscription within subscribeTimeoutMs → reconnect; a stale timer of an older connection does nothing', async () => {
    const { io } = await opened(undefined, { subscribeTimeoutMs: 30 });
    await new Promise((r) => setTimeout(r, 80));
    expect(io.reconnects).toEqual([{ reason: 'no orders subscription 30 ms after connecting (still authenticating)', code: 'subscribe_timeout' }]);

    const c = BsxClient.fromConfig({ ...baseConfig, subscribeTimeoutMs: 30 });
    await c.prepare(new AbortController().signal);
    const old = new RecordingIO();
    c.onOpen(old);
    await c.prepare(new AbortController().signal); // a new connection starts before the timer fires
    await new Promise((r) => setTimeout(r, 80));
    expect(old.reconnects).toEqual([]);
  });

  it('never copies the API key into events, even when BSX echoes it', async () => {
    const { io, c } = await opened();
    c.onFrame(JSON.stringify({ channel: 'auth', type: 'error', message: `api key not found: ${KEY}`, code: 400 }), io);
    expectNoSecrets(io);
    expect(io.events[0]?.reason).toContain('1fda…');
  });
});
