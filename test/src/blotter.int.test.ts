/**
 * The web blotter in a real browser: headless Chromium (the system's, driven by playwright-core) opens the page
 * served by order-state while the XT and BSX simulators play through the whole pipeline. Rows must appear and
 * change without a reload (Server-Sent Events), end equal to order-state's store, the filters must select exactly
 * the orders they name, the counts must equal the store's, and a row's detail must show its fields and history.
 * A screenshot is written to .local/test-output/blotter.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, orderSerdes, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import type { OrderState } from '@orderstream/schemas';
import { mapperLookup, type ReferenceData } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, createQueryServer, type OrderStateApp, type QueryServer } from '@orderstream/order-state';
import { repoRoot, uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { bsxRig } from './rigs/bsx.js';
import type { VenueRig } from './rigs/types.js';
import { xtRig } from './rigs/xt.js';

const LIFECYCLES = 15;
const OUTPUT_DIR = join(repoRoot(), '.local', 'test-output');

/** The system's Chromium: CHROMIUM_PATH, else the Debian package's binary (.ci/run installs it when missing). */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(', ')}); install Debian's chromium package or set CHROMIUM_PATH`);
  return found;
}

interface PageRow {
  key: string;
  status: string;
  venue: string;
}

/** The rows drawn on the page (the test package has no DOM types: elements are read as data only). */
const rowsOnPage = (page: Page): Promise<PageRow[]> =>
  page.$$eval('#rows .row', (els) =>
    els.map((e) => {
      const d = (e as unknown as { dataset: Record<string, string | undefined> }).dataset;
      return { key: d.key ?? '', status: d.status ?? '', venue: d.venue ?? '' };
    }),
  );
const matchedOnPage = async (page: Page): Promise<number> => Number(((await page.textContent('#matched')) ?? '').split(' ')[0]?.replaceAll(',', ''));

describe('web blotter in headless Chromium', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let rigs: VenueRig[] = [];
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  let api: QueryServer;
  let url: string;
  let browser: Browser;
  let page: Page;
  const logger = silentLogger();
  const serdes = orderSerdes();
  const pageErrors: string[] = [];

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-blotter', logger });
    const prefix = `${uniqueName('e2e-blotter')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 2, orderPartitions: 3, profile: 'test' });
    rigs = await Promise.all([xtRig('main', LIFECYCLES, 21), bsxRig('perps', LIFECYCLES, 22)]);
    const reference: ReferenceData = Object.assign({}, ...rigs.map((r) => r.reference));
    collector = createCollectorApp({ kafka, topics, accounts: rigs.map((r) => ({ account: r.account, client: r.client })), decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
    normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference, serde: serdes, logger, progressEveryMs: 0 });
    orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
    api = createQueryServer(
      { store: orderState.store, isReady: orderState.isReady, isHealthy: orderState.isHealthy, metrics: () => '', logger },
      { port: 0, blotter: { flushMs: 100 } },
    );
    url = (await api.start()).url;
    await Promise.all([normalizer.start(), orderState.start()]);
    await collector.start();
    await Promise.all(rigs.map((r) => r.ready()));
    browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    // Every (order, status) the page ever draws, to prove rows change in place while the page stays open.
    await page.addInitScript({
      content: `
        window.__seen = {};
        document.addEventListener('DOMContentLoaded', () => {
          new MutationObserver((records) => {
            for (const r of records) for (const el of r.addedNodes) {
              const key = el.dataset && el.dataset.key, status = el.dataset && el.dataset.status;
              if (!key || !status) continue;
              const list = (window.__seen[key] ??= []);
              if (list[list.length - 1] !== status) list.push(status);
            }
          }).observe(document.getElementById('rows'), { childList: true });
        });`,
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await collector?.stop();
    await Promise.all([normalizer?.stop(), orderState?.stop()]);
    await Promise.all(rigs.map((r) => r.stop()));
  });

  it('shows rows appearing and changing live, equal to the store at the end', async () => {
    await page.goto(`${url}/`);
    await page.waitForSelector('#conn.live', { timeout: 20_000 });
    expect(await page.$$('#rows .row')).toHaveLength(0);

    // The simulators play while the page is open: nothing reloads it, rows must come over the event stream.
    const playing = Promise.all(rigs.map((r) => r.play(120)));
    await page.waitForSelector('#rows .row', { timeout: 30_000 });
    await playing;
    const expected = new Map<string, string>();
    for (const rig of rigs) for (const [key, e] of rig.expected()) expected.set(key, e.status as string);
    expect(expected.size).toBe(2 * LIFECYCLES);
    await waitFor(() => [...expected].every(([key, status]) => orderState.store.get(key)?.order.status === status), {
      timeoutMs: 60_000, intervalMs: 250, description: 'order-state to hold every simulator truth',
    });
    // ...and the page shows exactly the store: every order, in its final status.
    await waitFor(
      async () => {
        const rows = await rowsOnPage(page);
        return rows.length === expected.size && rows.every((r) => expected.get(r.key) === r.status);
      },
      { timeoutMs: 20_000, intervalMs: 200, description: 'the page to show every order in its final status' },
    );
    const seen = (await page.evaluate('window.__seen')) as Record<string, string[]>;
    const changedLive = Object.entries(seen).filter(([, statuses]) => statuses.length >= 2);
    expect(changedLive.length, `rows whose status changed on the open page: ${JSON.stringify(changedLive.slice(0, 3))}`).toBeGreaterThan(5);
    expect(await matchedOnPage(page)).toBe(expected.size);
    expect(await page.textContent('#total')).toBe(`${expected.size} orders`);

    // The live counts equal the store's.
    const byStatus = new Map<string, number>();
    for (const s of orderState.store.values()) byStatus.set(s.order.status, (byStatus.get(s.order.status) ?? 0) + 1);
    for (const [status, n] of byStatus) expect(await page.textContent(`[data-count="status:${status}"] b`), status).toBe(String(n));
    expect(await page.textContent('[data-count="venue:bsx"] b')).toBe(String(LIFECYCLES));

    mkdirSync(OUTPUT_DIR, { recursive: true });
    await page.click('#rows .row >> nth=1');
    await page.waitForSelector('#detail.open [data-field="orderKey"]');
    await page.screenshot({ path: join(OUTPUT_DIR, 'blotter.png') });
    expect(pageErrors).toEqual([]);
  });

  it('shows a row\'s every canonical field and its history', async () => {
    const key = (await rowsOnPage(page))[0]?.key as string;
    await page.click(`#rows .row[data-key="${key}"]`);
    await waitFor(async () => (await page.textContent('#detail [data-field="orderKey"] td:last-child')) === key, { timeoutMs: 10_000, description: `detail of ${key}` });
    const state = orderState.store.get(key) as OrderState;
    for (const field of Object.keys(state.order)) expect(await page.$(`#detail [data-field="${field}"]`), field).not.toBeNull();
    expect(await page.textContent('#detail [data-field="status"] td:last-child')).toBe(state.order.status);
    const history = await page.$$('#detail [data-testid="history"] tr');
    expect(history.length - 1).toBeGreaterThanOrEqual(1); // header row + one per state change seen
  });

  const storeCount = (pred: (s: OrderState) => boolean) => [...orderState.store.values()].filter(pred).length;

  it('filters by venue, status, account and symbol', async () => {
    await page.selectOption('#f-venue', 'bsx');
    await waitFor(async () => (await matchedOnPage(page)) === storeCount((s) => s.order.venue === 'bsx'), { timeoutMs: 10_000, description: 'venue filter' });
    expect((await rowsOnPage(page)).every((r) => r.venue === 'bsx')).toBe(true);

    const status = orderState.store.get((await rowsOnPage(page))[0]?.key as string)?.order.status as string;
    await page.selectOption('#f-status', status);
    const want = storeCount((s) => s.order.venue === 'bsx' && s.order.status === status);
    await waitFor(async () => (await matchedOnPage(page)) === want && (await rowsOnPage(page)).length === want, { timeoutMs: 10_000, description: 'status filter' });
    expect((await rowsOnPage(page)).every((r) => r.venue === 'bsx' && r.status === status)).toBe(true);
    expect(page.url()).toContain(`status=${status}`);

    await page.click('#f-clear');
    await page.fill('#f-account', 'main');
    await waitFor(async () => (await matchedOnPage(page)) === LIFECYCLES, { timeoutMs: 10_000, description: 'account filter (xt|main)' });
    expect((await rowsOnPage(page)).every((r) => r.venue === 'xt')).toBe(true);

    await page.click('#f-clear');
    const symbol = [...orderState.store.values()].find((s) => s.order.venue === 'bsx')?.order.symbol as string;
    await page.fill('#f-symbol', symbol.slice(0, 3).toLowerCase());
    const bySymbol = storeCount((s) => (s.order.symbol ?? s.order.venueSymbol).toLowerCase().includes(symbol.slice(0, 3).toLowerCase()));
    await waitFor(async () => (await matchedOnPage(page)) === bySymbol, { timeoutMs: 10_000, description: `symbol filter ${symbol.slice(0, 3)}` });
    expect(bySymbol).toBeGreaterThan(0);

    // A filter the page is opened with (a bookmark) applies from the first window.
    await page.goto(`${url}/?venue=xt&status=live`);
    await page.waitForSelector('#conn.live');
    const liveXt = storeCount((s) => s.order.venue === 'xt' && ['PENDING_NEW', 'UNTRIGGERED', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL'].includes(s.order.status));
    await waitFor(async () => (await matchedOnPage(page)) === liveXt, { timeoutMs: 10_000, description: 'filters from the URL' });
    expect(pageErrors).toEqual([]);
  });
});
