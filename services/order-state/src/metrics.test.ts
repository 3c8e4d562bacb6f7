import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CanonicalOrder, OrderState, OrderStatus } from '@orderstream/schemas';
import {
  createOrderStateMetrics,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  MetricsRegistry,
  PROMETHEUS_CONTENT_TYPE,
  tallyOrders,
  type OrderStateMetricsProvider,
} from './metrics.js';

interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface ParsedFamily {
  help?: string;
  type?: string;
}

/**
 * An independent reader of the text format (what a scraper does): HELP/TYPE lines and samples, unescaping label
 * values and help text. Throws on any line it cannot read, so malformed output fails the test.
 */
function parseExposition(text: string): { families: Map<string, ParsedFamily>; samples: ParsedSample[] } {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the last line must end with a line feed');
  const families = new Map<string, ParsedFamily>();
  const samples: ParsedSample[] = [];
  const unescape = (s: string, quote: boolean) =>
    s.replace(quote ? /\\([\\"n])/g : /\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
  for (const line of text.split('\n').slice(0, -1)) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      const f = families.get(name) ?? {};
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`second HELP for ${name}`);
        f.help = unescape(rest, false);
      } else {
        if (f.type !== undefined) throw new Error(`second TYPE for ${name}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type ${rest}`);
        if (samples.some((s) => s.name === name || s.name.startsWith(`${name}_`))) throw new Error(`TYPE after samples of ${name}`);
        f.type = rest;
      }
      families.set(name, f);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unreadable line: ${JSON.stringify(line)}`);
    const [, name, body, raw] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    if (body !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/gy;
      let consumed = 0;
      for (let l = re.exec(body); l; l = re.exec(body)) {
        labels[l[1] as string] = unescape(l[2] as string, true);
        consumed = re.lastIndex;
        if (l[3] === '') break;
      }
      if (consumed !== body.length) throw new Error(`unreadable labels: ${body}`);
    }
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
    if (Number.isNaN(value) && raw !== 'NaN') throw new Error(`bad value ${raw}`);
    samples.push({ name, labels, value });
  }
  return { families, samples };
}

describe('MetricsRegistry', () => {
  it('renders counters, gauges and histograms in definition order, exactly', () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: 'jobs_total', help: 'Jobs done.' });
    const g = r.gauge({ name: 'queue_depth', help: 'Jobs waiting.', labelNames: ['queue'] });
    const h = r.histogram({ name: 'job_seconds', help: 'Job time.', labelNames: ['kind'], buckets: [0.1, 1, 5] });
    c.inc();
    c.inc(undefined, 2.5);
    g.set({ queue: 'b' }, 4);
    g.set({ queue: 'a' }, 1);
    g.inc({ queue: 'a' });
    g.dec({ queue: 'b' }, 2);
    h.observe({ kind: 'x' }, 0.1); // on a bound: counted in that bucket (le is "less or equal")
    h.observe({ kind: 'x' }, 0.5);
    h.observe({ kind: 'x' }, 7);
    h.observe({ kind: 'y' }, -1);
    expect(r.render()).toBe(
      [
        '# HELP jobs_total Jobs done.',
        '# TYPE jobs_total counter',
        'jobs_total 3.5',
        '# HELP queue_depth Jobs waiting.',
        '# TYPE queue_depth gauge',
        'queue_depth{queue="b"} 2',
        'queue_depth{queue="a"} 2',
        '# HELP job_seconds Job time.',
        '# TYPE job_seconds histogram',
        'job_seconds_bucket{kind="x",le="0.1"} 1',
        'job_seconds_bucket{kind="x",le="1"} 2',
        'job_seconds_bucket{kind="x",le="5"} 2',
        'job_seconds_bucket{kind="x",le="+Inf"} 3',
        'job_seconds_sum{kind="x"} 7.6',
        'job_seconds_count{kind="x"} 3',
        'job_seconds_bucket{kind="y",le="0.1"} 1',
        'job_seconds_bucket{kind="y",le="1"} 1',
        'job_seconds_bucket{kind="y",le="5"} 1',
        'job_seconds_bucket{kind="y",le="+Inf"} 1',
        'job_seconds_sum{kind="y"} -1',
        'job_seconds_count{kind="y"} 1',
        '',
      ].join('\n'),
    );
    expect(g.get({ queue: 'a' })).toBe(2);
    expect(c.get()).toBe(3.5);
  });

  it('shows an unlabelled metric as 0 before its first change, and a labelled one with no series as HELP/TYPE only', () => {
    const r = new MetricsRegistry();
    r.counter({ name: 'a_total', help: 'A.' });
    r.histogram({ name: 'b_seconds', help: 'B.', buckets: [1] });
    r.gauge({ name: 'c', help: 'C.', labelNames: ['x'] });
    expect(r.render()).toBe(
      '# HELP a_total A.\n# TYPE a_total counter\na_total 0\n' +
        '# HELP b_seconds B.\n# TYPE b_seconds histogram\nb_seconds_bucket{le="1"} 0\nb_seconds_bucket{le="+Inf"} 0\nb_seconds_sum 0\nb_seconds_count 0\n' +
        '# HELP c C.\n# TYPE c gauge\n',
    );
    expect(new MetricsRegistry().render()).toBe('');
  });

  it('escapes label values (backslash, double quote, line feed) and help text (backslash, line feed), and a reader gets them back', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeHelp('path C:\\x\nsecond "line"')).toBe('path C:\\\\x\\nsecond "line"');
    const r = new MetricsRegistry();
    const tricky = 'we\\ird "venue"\nname, with={braces} é';
    r.gauge({ name: 'g', help: 'Help with \\ and\nnewline and "quotes".', labelNames: ['venue', 'other'] }).set({ venue: tricky, other: '' }, 1);
    const text = r.render();
    expect(text).toBe(
      '# HELP g Help with \\\\ and\\nnewline and "quotes".\n# TYPE g gauge\ng{venue="we\\\\ird \\"venue\\"\\nname, with={braces} é",other=""} 1\n',
    );
    const parsed = parseExposition(text);
    expect(parsed.families.get('g')).toEqual({ help: 'Help with \\ and\nnewline and "quotes".', type: 'gauge' });
    expect(parsed.samples).toEqual([{ name: 'g', labels: { venue: tricky, other: '' }, value: 1 }]);
  });

  it('writes values as Prometheus reads them', () => {
    expect([Infinity, -Infinity, NaN, 0, -0, 1, -2.5, 0.1, 1e21, 1e-7, 2 ** 53].map(formatValue)).toEqual([
      '+Inf', '-Inf', 'NaN', '0', '0', '1', '-2.5', '0.1', '1e+21', '1e-7', '9007199254740992',
    ]);
    const r = new MetricsRegistry();
    r.gaugeFunc({ name: 'v', help: 'V.', labelNames: ['k'] }, () => [
      [{ k: 'inf' }, Infinity],
      [{ k: 'nan' }, NaN],
    ]);
    expect(parseExposition(r.render()).samples.map((s) => s.value)).toEqual([Infinity, NaN]);
  });

  it('reads function metrics at every render', () => {
    const r = new MetricsRegistry();
    let n = 1;
    r.counterFunc({ name: 'n_total', help: 'N.' }, () => n);
    expect(r.render()).toContain('\nn_total 1\n');
    n = 5;
    expect(r.render()).toContain('\nn_total 5\n');
    r.gaugeFunc({ name: 'bad', help: 'Bad.', labelNames: ['x'] }, () => 3);
    expect(() => r.render()).toThrow(/must read label sets/);
  });

  it('refuses bad definitions and bad use at once', () => {
    const r = new MetricsRegistry();
    r.counter({ name: 'ok_total', help: 'x' });
    r.histogram({ name: 'h', help: 'x', buckets: [1] });
    expect(() => r.counter({ name: '1abc', help: 'x' })).toThrow(/invalid metric name/);
    expect(() => r.counter({ name: 'a-b', help: 'x' })).toThrow(/invalid metric name/);
    expect(() => r.gauge({ name: 'g1', help: 'x', labelNames: ['__reserved'] })).toThrow(/invalid label name/);
    expect(() => r.gauge({ name: 'g2', help: 'x', labelNames: ['a-b'] })).toThrow(/invalid label name/);
    expect(() => r.gauge({ name: 'g3', help: 'x', labelNames: ['a', 'a'] })).toThrow(/duplicate label/);
    expect(() => r.gauge({ name: 'ok_total', help: 'x' })).toThrow(/already defined/);
    expect(() => r.gauge({ name: 'h_count', help: 'x' })).toThrow(/already defined/);
    expect(() => r.histogram({ name: 'h2', help: 'x', labelNames: ['le'], buckets: [1] })).toThrow(/"le" is reserved/);
    expect(() => r.histogram({ name: 'h3', help: 'x', buckets: [] })).toThrow(/at least one bucket/);
    expect(() => r.histogram({ name: 'h4', help: 'x', buckets: [1, 1] })).toThrow(/strictly increasing/);
    expect(() => r.histogram({ name: 'h5', help: 'x', buckets: [1, Infinity] })).toThrow(/finite/);
    const c = r.counter({ name: 'c_total', help: 'x', labelNames: ['a'] });
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(/only goes up/);
    expect(() => c.inc({ a: 'x' }, NaN)).toThrow(/only goes up/);
    expect(() => c.inc({} as { a: string })).toThrow(/missing label "a"/);
    expect(() => c.inc({ a: 'x', b: 'y' } as { a: string })).toThrow(/unexpected label\(s\) b/);
    expect(() => r.histogram({ name: 'h6', help: 'x', buckets: [1] }).observe(undefined, NaN)).toThrow(/NaN/);
    // nothing half-defined was left behind
    expect(parseExposition(r.render()).families.size).toBe(4);
  });
});

function state(venue: string, account: string, orderId: string, status: OrderStatus): OrderState {
  const order = {
    orderKey: `${venue}|${account}|${orderId}`, venue, account, orderId, status, venueStatus: status,
  } as CanonicalOrder;
  return { order, updateCount: 1, stateUpdatedAt: 0, executions: [], note: null };
}

function provider(overrides: Partial<OrderStateMetricsProvider> = {}): OrderStateMetricsProvider {
  const states = [
    state('xt', 'main', '1', 'NEW'),
    state('xt', 'main', '2', 'FILLED'),
    state('xt', 'hedge', '3', 'NEW'),
    state('bsx', 'main', '4', 'CLOSED_UNKNOWN'),
    state('websea', 'main', '5', 'PARTIALLY_FILLED'),
  ];
  const tally = tallyOrders(states);
  return {
    stats: () => ({ restored: 3, updates: 12, changes: 7, unchanged: 4, deadLetters: 1, orders: states.length }),
    ordersByStatus: () => tally.byStatus,
    ordersByVenue: () => tally.byVenue,
    ready: () => true,
    ...overrides,
  };
}

const P = 'orderstream_order_state';

describe('order-state metrics', () => {
  it('renders every metric of a known store, exactly', () => {
    const m = createOrderStateMetrics(provider({ lagByPartition: () => ({ 10: 0, 2: 17, 0: 3 }) }));
    m.observeRequest('orders', 200, 0.00390625); // binary fractions, so the sum is exact
    m.observeRequest('orders', 200, 0.000244140625);
    m.observeRequest('order', 404, 2);
    const text = m.render();
    const lines = text.split('\n');
    const values = lines.filter((l) => !l.startsWith('#') && !l.includes('_bucket'));
    expect(values).toEqual([
      `${P}_ready 1`,
      `${P}_restored_orders 3`,
      `${P}_updates_total 12`,
      `${P}_changes_total 7`,
      `${P}_unchanged_total 4`,
      `${P}_dead_letters_total 1`,
      `${P}_orders 5`,
      `${P}_orders_by_status{status="PENDING_NEW"} 0`,
      `${P}_orders_by_status{status="UNTRIGGERED"} 0`,
      `${P}_orders_by_status{status="NEW"} 2`,
      `${P}_orders_by_status{status="PARTIALLY_FILLED"} 1`,
      `${P}_orders_by_status{status="PENDING_CANCEL"} 0`,
      `${P}_orders_by_status{status="FILLED"} 1`,
      `${P}_orders_by_status{status="CANCELED"} 0`,
      `${P}_orders_by_status{status="REJECTED"} 0`,
      `${P}_orders_by_status{status="EXPIRED"} 0`,
      `${P}_orders_by_status{status="CLOSED_UNKNOWN"} 1`,
      `${P}_orders_by_venue{venue="bsx"} 1`,
      `${P}_orders_by_venue{venue="websea"} 1`,
      `${P}_orders_by_venue{venue="xt"} 3`,
      `${P}_consumer_lag{partition="0"} 3`,
      `${P}_consumer_lag{partition="2"} 17`,
      `${P}_consumer_lag{partition="10"} 0`,
      `${P}_http_request_duration_seconds_sum{route="orders",code="200"} 0.004150390625`,
      `${P}_http_request_duration_seconds_count{route="orders",code="200"} 2`,
      `${P}_http_request_duration_seconds_sum{route="order",code="404"} 2`,
      `${P}_http_request_duration_seconds_count{route="order",code="404"} 1`,
      `${P}_end_to_end_seconds_sum 0`,
      `${P}_end_to_end_seconds_count 0`,
      '',
    ]);
    const buckets = (route: string, code: string) =>
      lines.filter((l) => l.startsWith(`${P}_http_request_duration_seconds_bucket{route="${route}",code="${code}",`)).map((l) => l.slice(l.indexOf(',le=') + 1));
    expect(buckets('orders', '200')).toEqual([
      'le="0.0005"} 1', 'le="0.001"} 1', 'le="0.0025"} 1', 'le="0.005"} 2', 'le="0.01"} 2', 'le="0.025"} 2', 'le="0.05"} 2',
      'le="0.1"} 2', 'le="0.25"} 2', 'le="0.5"} 2', 'le="1"} 2', 'le="2.5"} 2', 'le="+Inf"} 2',
    ]);
    expect(buckets('order', '404').slice(-3)).toEqual(['le="1"} 0', 'le="2.5"} 1', 'le="+Inf"} 1']);
    expect(lines.filter((l) => l.startsWith('# TYPE'))).toEqual([
      `# TYPE ${P}_ready gauge`,
      `# TYPE ${P}_restored_orders gauge`,
      `# TYPE ${P}_updates_total counter`,
      `# TYPE ${P}_changes_total counter`,
      `# TYPE ${P}_unchanged_total counter`,
      `# TYPE ${P}_dead_letters_total counter`,
      `# TYPE ${P}_orders gauge`,
      `# TYPE ${P}_orders_by_status gauge`,
      `# TYPE ${P}_orders_by_venue gauge`,
      `# TYPE ${P}_consumer_lag gauge`,
      `# TYPE ${P}_http_request_duration_seconds histogram`,
      `# TYPE ${P}_end_to_end_seconds histogram`,
    ]);
    // a reader accepts all of it, and every family has help
    const parsed = parseExposition(text);
    for (const [name, f] of parsed.families) expect(f.help, name).toMatch(/\S/);
  });

  it('reads the provider at every render: readiness flips, counters move', () => {
    let ready = false;
    let updates = 0;
    const base = provider();
    const m = createOrderStateMetrics({ ...base, ready: () => ready, stats: () => ({ ...base.stats(), updates }) });
    expect(m.render()).toContain(`\n${P}_ready 0\n`);
    expect(m.render()).toContain(`\n${P}_updates_total 0\n`);
    ready = true;
    updates = 41;
    expect(m.render()).toContain(`\n${P}_ready 1\n`);
    expect(m.render()).toContain(`\n${P}_updates_total 41\n`);
  });

  it('has no consumer-lag metric when the provider has no lag', () => {
    expect(createOrderStateMetrics(provider()).render()).not.toContain('consumer_lag');
  });

  it('tallies every status (0 included) and any venue name', () => {
    const t = tallyOrders([state('__proto__', 'a', '1', 'NEW'), state('constructor', 'a', '2', 'NEW'), state('xt', 'a', '3', 'EXPIRED')]);
    expect(t.byStatus).toEqual({
      PENDING_NEW: 0, UNTRIGGERED: 0, NEW: 2, PARTIALLY_FILLED: 0, PENDING_CANCEL: 0,
      FILLED: 0, CANCELED: 0, REJECTED: 0, EXPIRED: 1, CLOSED_UNKNOWN: 0,
    });
    expect({ ...t.byVenue }).toEqual({ ['__proto__']: 1, constructor: 1, xt: 1 });
  });

  it('exports the content type Prometheus expects', () => {
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('documents every metric it renders in docs/query-api.md, and no other', () => {
    const doc = readFileSync(new URL('../../../docs/query-api.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(orderstream_[a-z_]+)`/gm)].map((m) => m[1]));
    const text = createOrderStateMetrics(provider({ lagByPartition: () => ({}) })).render();
    const rendered = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    expect(documented).toEqual(rendered);
  });

  it('observes the end-to-end latency of committed updates from their received-at', () => {
    const m = createOrderStateMetrics(provider({}));
    const now = Date.now() * 1000;
    m.observeCommitted([now - 20_000, now - 3_000_000]); // 20 ms and 3 s ago (µs)
    const lines = m.render().split('\n');
    const bucket = (le: string) => Number(lines.find((l) => l.startsWith(`${P}_end_to_end_seconds_bucket{le="${le}"}`))?.split(' ')[1]);
    expect(bucket('0.01')).toBe(0);
    expect(bucket('0.25')).toBe(1);
    expect(bucket('2.5')).toBe(1);
    expect(bucket('5')).toBe(2);
    expect(lines).toContain(`${P}_end_to_end_seconds_count 2`);
  });
});
