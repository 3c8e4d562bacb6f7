/**
 * The compose stack's own files, checked without Docker (CI has no engine): the collector's accounts file parses
 * with the credentials docker-compose.yml gives it, the normalizer's reference data is the simulators', Prometheus
 * scrapes the ports the services listen on, and every metric the Grafana dashboard asks for is one a service
 * exposes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReferenceData, LoopringSimulator, XtSimulator } from '@orderstream/venues';
import { createCollectorMetrics, parseAccounts } from '@orderstream/collector';
import { createNormalizerMetrics } from '@orderstream/normalizer';
import { createOrderStateMetrics } from '@orderstream/order-state';
import { repoRoot } from '@orderstream/testing';

const file = (p: string) => readFileSync(join(repoRoot(), p), 'utf8');
const compose = file('docker-compose.yml');

/** `NAME: value` lines of docker-compose.yml (the file is plain enough for this; no YAML parser is installed). */
function composeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of compose.matchAll(/^\s+([A-Z][A-Z0-9_]+): "?([^"\n]+?)"?\s*$/gm)) env[m[1] as string] = m[2] as string;
  return env;
}

describe('compose stack files', () => {
  it('the accounts file lists all five venues and parses with the credentials compose sets', () => {
    const specs = parseAccounts(JSON.parse(file('ops/compose/accounts.json')), composeEnv());
    expect(specs.map((s) => s.venue).sort()).toEqual(['binance-usdm', 'bsx', 'loopring', 'websea', 'xt']);
    expect(compose).toContain('COLLECTOR_ACCOUNTS_FILE: /app/ops/compose/accounts.json');
    for (const venue of ['xt', 'websea', 'loopring', 'bsx', 'binance-usdm']) expect(compose).toContain(`"--venue", "${venue}"`);
  });

  it('the reference data is the simulators\'', async () => {
    const xt = await XtSimulator.start({});
    const loopring = await LoopringSimulator.start({ apiKey: 'k' });
    try {
      expect(loadReferenceData(join(repoRoot(), 'ops/compose/reference.json'))).toEqual({ ...xt.referenceData(), ...loopring.referenceData() });
    } finally {
      await Promise.all([xt.stop(), loopring.stop()]);
    }
  });

  it('Prometheus scrapes the ports the services listen on', () => {
    const prom = file('ops/prometheus.yml');
    const env = composeEnv();
    expect(prom).toContain(`collector:${env.COLLECTOR_HTTP_PORT}`);
    expect(prom).toContain(`normalizer:${env.NORMALIZER_HTTP_PORT}`);
    expect(prom).toContain(`order-state:${env.ORDER_STATE_HTTP_PORT}`);
  });

  it('every metric the Grafana dashboard uses is exposed by a service', () => {
    const zeroStats = { frames: 0, restFrames: 0, sessionEvents: 0, published: 0, pending: 0, connections: 0, tracking: { fromState: 0, fromTopic: 0, rejected: 0 }, reconcile: { runs: 0, runFailures: 0, calls: 0, retried: 0, failures: 0, rateLimitWaits: 0, rateLimitWaitedMs: 0 } };
    const texts = [
      createCollectorMetrics([], { stats: () => zeroStats, sessions: () => [] }).render(),
      createNormalizerMetrics({ stats: () => ({ frames: 0, orders: 0, skipped: 0, sessionEvents: 0, deadLetters: 0 }), ready: () => true, lagByPartition: () => ({}) }).render(),
      createOrderStateMetrics({
        stats: () => ({ restored: 0, updates: 0, changes: 0, unchanged: 0, deadLetters: 0, orders: 0 }), ready: () => true,
        ordersByStatus: () => ({}) as never, ordersByVenue: () => ({}), lagByPartition: () => ({}),
      }).render(),
    ];
    const families = new Set(texts.flatMap((t) => [...t.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap((m) => (m[2] === 'histogram' ? [`${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1] as string]))));
    const dashboard = JSON.parse(file('ops/grafana/dashboards/orderstream.json')) as { panels: { targets?: { expr: string }[] }[] };
    const used = new Set(dashboard.panels.flatMap((p) => p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/orderstream_[a-z_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !families.has(name))).toEqual([]);
  });
});
