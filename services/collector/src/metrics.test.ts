import { describe, expect, it } from 'vitest';
import type { RawFrame, ReconcileStats } from '@orderstream/venues';
import type { CollectorStats } from './app.js';
import { createCollectorMetrics } from './metrics.js';

const reconcile: ReconcileStats = { runs: 2, runFailures: 1, calls: 9, retried: 3, failures: 1, rateLimitWaits: 4, rateLimitWaitedMs: 1500, lastReport: undefined };
const stats: CollectorStats = {
  frames: 0, restFrames: 0, sessionEvents: 0, published: 7, pending: 2, connections: 2,
  tracking: { fromState: 1, fromTopic: 2, rejected: 0 },
  reconcile: { runs: 2, runFailures: 1, calls: 9, retried: 3, failures: 1, rateLimitWaits: 4, rateLimitWaitedMs: 1500 },
};
const frame = (kind: RawFrame['kind'], text: string): RawFrame => ({ kind, value: Buffer.from(text), connId: 'c', connSeq: 1, receivedAt: '1' });
const event = (e: Record<string, unknown>) => frame('session', JSON.stringify(e));

function samples(text: string): Map<string, number> {
  return new Map(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

describe('collector metrics', () => {
  it('tallies frames, bytes, session state, disconnects by reason and reads the app at each scrape', () => {
    let now = 10_000;
    const m = createCollectorMetrics([{ venue: 'xt', account: 'main' }, { venue: 'bsx', account: 'perps' }], { stats: () => stats, sessions: () => [{ connections: 2, reconcileStats: reconcile }] }, () => now);
    m.onFrame('xt', 'main', event({ event: 'connecting' }));
    m.onFrame('xt', 'main', event({ event: 'connected' }));
    m.onFrame('xt', 'main', frame('data', 'héllo')); // 6 bytes
    m.onFrame('xt', 'main', frame('rest', '{}'));
    m.onFrame('xt', 'main', event({ event: 'disconnected', reason: 'heartbeat timeout' }));
    m.onFrame('xt', 'main', event({ event: 'disconnected' }));
    m.onFrame('xt', 'main', event({ event: 'connected' }));
    m.onFrame('nope', 'x', frame('data', 'ignored')); // not a configured account
    now = 12_500;
    const s = samples(m.render());
    const xt = 'venue="xt",account="main"';
    expect(s.get(`orderstream_collector_frames_total{${xt},kind="data"}`)).toBe(1);
    expect(s.get(`orderstream_collector_frame_bytes_total{${xt},kind="data"}`)).toBe(6);
    expect(s.get(`orderstream_collector_frames_total{${xt},kind="rest"}`)).toBe(1);
    expect(s.get(`orderstream_collector_frames_total{${xt},kind="session"}`)).toBe(5);
    expect(s.get(`orderstream_collector_session_up{${xt}}`)).toBe(1);
    expect(s.get('orderstream_collector_session_up{venue="bsx",account="perps"}')).toBe(0);
    expect(s.get(`orderstream_collector_disconnects_total{${xt},reason="heartbeat timeout"}`)).toBe(1);
    expect(s.get(`orderstream_collector_disconnects_total{${xt},reason="unknown"}`)).toBe(1);
    expect(s.get(`orderstream_collector_session_events_total{${xt},event="connected"}`)).toBe(2);
    expect(s.get(`orderstream_collector_seconds_since_last_frame{${xt}}`)).toBe(2.5);
    expect(s.has('orderstream_collector_seconds_since_last_frame{venue="bsx",account="perps"}')).toBe(false);
    expect(s.get(`orderstream_collector_rate_limit_wait_seconds_total{${xt}}`)).toBe(1.5);
    expect(s.get('orderstream_collector_rest_calls_total{venue="bsx",account="perps"}')).toBe(0); // no session yet
    expect(s.get('orderstream_collector_pending_records')).toBe(2);
    expect(s.get('orderstream_collector_ready')).toBe(0);
    m.setStarted(true);
    expect(m.ready()).toBe(true);
  });
});
