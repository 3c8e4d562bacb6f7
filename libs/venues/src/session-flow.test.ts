import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '@orderstream/kit';
import { VenueSession, type RawFrame } from './session.js';
import type { VenueClient } from './types.js';

/** Flow control of a session (issue 10): pause() stops reading the socket, resume() reads again, both are events. */
describe('VenueSession pause/resume', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('holds frames back while paused and delivers all of them, in order, after resume', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    let server: WebSocket | undefined;
    wss.on('connection', (ws) => (server = ws));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
    const client: VenueClient = {
      venue: 'xt', apiVersion: 'test', idleTimeoutMs: 200,
      prepare: () => Promise.resolve({ url }),
      onOpen: () => {},
      onFrame: () => {},
    };
    const frames: RawFrame[] = [];
    const session = new VenueSession({ client, sink: (f) => frames.push(f), logger: silentLogger() });
    cleanups.push(() => session.stop());
    session.start();
    await waitUntil(() => server !== undefined && frames.some((f) => f.kind === 'session' && f.value.toString().includes('"connected"')), 'connected');
    const data = () => frames.filter((f) => f.kind === 'data').map((f) => f.value.toString());
    const events = () => frames.filter((f) => f.kind === 'session').map((f) => JSON.parse(f.value.toString()) as { event: string; reason?: string });

    server?.send('1');
    await waitUntil(() => data().length === 1, 'first frame');
    session.pause('spool full');
    expect(session.paused).toBe(true);
    expect(events().at(-1)).toMatchObject({ event: 'paused', reason: 'spool full' });
    for (let i = 2; i <= 50; i++) server?.send(String(i));
    // Longer than the idle timeout: no reconnect while paused, and nothing read.
    await new Promise((r) => setTimeout(r, 500));
    expect(data()).toEqual(['1']);
    expect(session.connections).toBe(1);
    session.resume();
    await waitUntil(() => data().length === 50, 'frames after resume');
    expect(data()).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1)));
    expect(events().map((e) => e.event)).toEqual(['connecting', 'connected', 'paused', 'resumed']);
    expect(session.connections).toBe(1);
    // conn-seq stays gap-free over data and events.
    expect(frames.map((f) => f.connSeq)).toEqual(frames.map((_, i) => i + 1));
  });
});
