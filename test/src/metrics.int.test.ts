/**
 * /metrics, /healthz and /readyz of every service, scraped during an end-to-end run of the built services as OS
 * processes (as in production): the XT simulator plays lifecycles and malformed frames to the collector; the
 * counters each service exposes must agree with what the simulator sent (frames and exact bytes, counted from the
 * simulator's own frame log), with each other (collector published = normalizer frames in; normalizer canonical
 * out = order-state updates) and with the truth (orders in the store, dead letters by code).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics } from '@orderstream/kafka';
import { XtSimulator, type XtMalformedKind } from '@orderstream/venues';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { ServiceProcess, type ServiceName } from './support/processes.js';

const LIFECYCLES = 20;
const MALFORMED: XtMalformedKind[] = ['invalid-json', 'wrong-types', 'unknown-state'];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Samples of a Prometheus text exposition: `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

function sum(samples: Map<string, number>, prefix: string): number {
  let n = 0;
  for (const [k, v] of samples) if (k === prefix || k.startsWith(`${prefix}{`)) n += v;
  return n;
}

describe('metrics, health and readiness of every service during an end-to-end run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderstream-metrics-'));
  let sim: XtSimulator;
  const procs: ServiceProcess[] = [];
  const urls = {} as Record<ServiceName, string>;
  const sent = { frames: 0, bytes: 0 };

  const get = async (service: ServiceName, path: string) => {
    const res = await fetch(`${urls[service]}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const scrape = async (service: ServiceName) => {
    const r = await get(service, '/metrics');
    expect(r.status, `${service} /metrics`).toBe(200);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parse(r.text);
  };

  beforeAll(async () => {
    const prefix = `${uniqueName('e2e-metrics')}.`;
    const kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-metrics', logger: silentLogger() });
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 2, orderPartitions: 3, profile: 'test' });
    sim = await XtSimulator.start({
      apiKey: 'metrics-key', apiSecret: 'metrics-secret',
      // every frame the venue sends on a socket: what the collector must count, exactly
      log: (e) => {
        if (e.direction !== 'out' || e.channel !== 'ws') return;
        sent.frames++;
        sent.bytes += Buffer.byteLength(e.text, 'utf8');
      },
    });
    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(accountsFile, JSON.stringify({ accounts: [{ venue: 'xt', account: 'main', config: { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'metrics-key', apiSecret: 'metrics-secret' } }] }));
    const referenceFile = join(dir, 'reference.json');
    writeFileSync(referenceFile, JSON.stringify(sim.referenceData()));
    const common = { KAFKA_BROKERS: testBrokers().join(','), ORDERSTREAM_TOPIC_PREFIX: prefix, LOG_LEVEL: 'info', ORDERSTREAM_SESSION_TIMEOUT_MS: '6000' };
    const ports = { collector: await freePort(), normalizer: await freePort(), 'order-state': await freePort() };
    const env: Record<ServiceName, Record<string, string>> = {
      collector: { ...common, COLLECTOR_ACCOUNTS_FILE: accountsFile, COLLECTOR_SPOOL_DIR: join(dir, 'spool'), COLLECTOR_HTTP_PORT: String(ports.collector) },
      normalizer: { ...common, NORMALIZER_GROUP_ID: uniqueName('normalizer'), REFERENCE_DATA_FILE: referenceFile, NORMALIZER_HTTP_PORT: String(ports.normalizer) },
      'order-state': { ...common, ORDER_STATE_GROUP_ID: uniqueName('order-state'), ORDER_STATE_HTTP_PORT: String(ports['order-state']) },
    };
    for (const name of ['order-state', 'normalizer', 'collector'] as const) {
      urls[name] = `http://127.0.0.1:${ports[name]}`;
      const p = new ServiceProcess(name, env[name], join(dir, `${name}.log`));
      procs.push(p);
      p.start();
    }
    for (const name of ['order-state', 'normalizer', 'collector'] as const) {
      await waitFor(async () => (await get(name, '/readyz').catch(() => ({ status: 0 }))).status === 200, {
        timeoutMs: 90_000, intervalMs: 250, description: `${name} /readyz 200 (logs in ${dir})`,
      });
    }
    await sim.waitForSubscribers(1, 30_000);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await sim?.stop();
  });

  it('answers /healthz, /readyz and /metrics on every service while it runs', async () => {
    for (const name of ['collector', 'normalizer', 'order-state'] as const) {
      expect(await get(name, '/healthz'), name).toMatchObject({ status: 200, text: '{"status":"ok"}' });
      expect((await get(name, '/readyz')).status, name).toBe(200);
      expect((await get(name, '/nope')).status, name).toBe(404);
      const m = await scrape(name);
      const ready = name === 'order-state' ? 'orderstream_order_state_ready' : `orderstream_${name}_ready`;
      expect(m.get(ready), ready).toBe(1);
    }
    const c = await scrape('collector');
    expect(c.get('orderstream_collector_session_up{venue="xt",account="main"}')).toBe(1);
    expect(c.get('orderstream_collector_connections_total{venue="xt",account="main"}')).toBe(1);
  });

  it('counts what the simulator sent, the same in every service', async () => {
    await sim.play(sim.randomLifecycles(LIFECYCLES, 77), { intervalMs: 20 });
    for (const kind of MALFORMED) sim.injectMalformed(kind);
    await sim.play(sim.randomLifecycles(5, 78)); // frames after the malformed ones still arrive
    const truth = sim.truth();
    expect(truth.size).toBe(LIFECYCLES + 5);

    // order-state holds every order...
    await waitFor(async () => (await scrape('order-state')).get('orderstream_order_state_orders') === truth.size, {
      timeoutMs: 60_000, intervalMs: 250, description: 'order-state to hold every order',
    });
    // ...and every counter has caught up with the venue's frames (a pong may still be on its way: wait for equality)
    const x = '{venue="xt",account="main",kind="data"}';
    let c = new Map<string, number>();
    let n = new Map<string, number>();
    let o = new Map<string, number>();
    await waitFor(
      async () => {
        [c, n, o] = await Promise.all([scrape('collector'), scrape('normalizer'), scrape('order-state')]);
        const published = c.get('orderstream_collector_published_total');
        return (
          c.get(`orderstream_collector_frames_total${x}`) === sent.frames &&
          published === sum(c, 'orderstream_collector_frames_total') &&
          n.get('orderstream_normalizer_frames_total') === published &&
          // every canonical order update folded and committed (updates_total also counts snapshot markers)
          o.get('orderstream_order_state_end_to_end_seconds_count') === n.get('orderstream_normalizer_canonical_orders_total')
        );
      },
      { timeoutMs: 30_000, intervalMs: 300, description: `counters to agree (simulator sent ${sent.frames} frames)` },
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; collector ${JSON.stringify([...c].filter(([k]) => k.includes('frames') || k.includes('published')))}; normalizer frames ${n.get('orderstream_normalizer_frames_total')} canonical ${n.get('orderstream_normalizer_canonical_orders_total')}; order-state end-to-end count ${o.get('orderstream_order_state_end_to_end_seconds_count')}`);
    });

    // collector: frames and their exact bytes as the venue sent them; nothing left to publish
    expect(c.get(`orderstream_collector_frame_bytes_total${x}`)).toBe(sent.bytes);
    expect(c.get('orderstream_collector_pending_records')).toBe(0);
    expect(c.get('orderstream_collector_seconds_since_last_frame{venue="xt",account="main"}')).toBeLessThan(60);
    expect(c.get('orderstream_collector_session_events_total{venue="xt",account="main",event="subscribed"}')).toBeGreaterThanOrEqual(1);

    // normalizer: every frame is an order, a skip, a session event or a dead letter; the malformed ones are dead letters
    const frames = n.get('orderstream_normalizer_frames_total') as number;
    expect(
      (n.get('orderstream_normalizer_skipped_total') as number) + (n.get('orderstream_normalizer_session_events_total') as number) +
        (n.get('orderstream_normalizer_dead_letters_total') as number),
    ).toBeLessThanOrEqual(frames);
    expect(n.get('orderstream_normalizer_dead_letters_total')).toBe(MALFORMED.length);
    expect(sum(n, 'orderstream_normalizer_dead_letters_by_code_total')).toBe(MALFORMED.length);
    expect(sum(n, 'orderstream_normalizer_frame_seconds_count')).toBe(frames);
    expect(n.get('orderstream_normalizer_frame_latency_seconds_count')).toBe(frames); // every raw record has received-at
    expect(n.get('orderstream_normalizer_frame_latency_seconds_bucket{le="60"}')).toBe(frames);

    // order-state: the truth (one end-to-end latency per canonical update was checked above)
    expect(o.get('orderstream_order_state_orders_by_venue{venue="xt"}')).toBe(truth.size);
    expect(o.get('orderstream_order_state_updates_total')).toBeGreaterThanOrEqual(n.get('orderstream_normalizer_canonical_orders_total') as number);
    expect(o.get('orderstream_order_state_end_to_end_seconds_bucket{le="+Inf"}')).toBe(o.get('orderstream_order_state_end_to_end_seconds_count'));
    expect(o.get('orderstream_order_state_dead_letters_total')).toBe(0);
  });
});
