/**
 * "Exact state after every gap", the same scenario for every venue: the simulator drops the connection several
 * times while orders fill, cancel and expire (their pushes lost), orders begin and end inside the gaps, the REST
 * endpoints rate-limit and fail for a while, and orders.state.v1 must still end equal to the venue's truth. Then a
 * variant where the venue cannot tell about some orders (only those end CLOSED_UNKNOWN), and a replay of
 * orders.raw.v1 through a fresh normalizer and order-state that must rebuild the same state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, headerString, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import { isTerminal, type CanonicalOrder } from '@orderstream/schemas';
import { DEFAULT_RECONCILE_OPTIONS, mapperLookup, type ReconcileOptions } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, type OrderStateApp } from '@orderstream/order-state';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { pickChecked, type GapRig } from '../rigs/types.js';
import { waitForStateTopic } from './checks.js';

export interface GapScenarioOptions {
  /** orders of the main play (default 40) */
  lifecycles?: number;
  /** ms between the main play's frames (default 20) */
  intervalMs?: number;
  /**
   * Whether the venue has a history endpoint: without one, orders that begin and end inside a gap cannot be known,
   * and the scenario checks that they are absent rather than exact (the venue README says so).
   */
  history: boolean;
}

export const GAP_RECONCILE: ReconcileOptions = {
  ...DEFAULT_RECONCILE_OPTIONS,
  historyMarginMs: 5_000,
  requestTimeoutMs: 5_000,
  maxAttempts: 3,
};

const ORDER_PARTITIONS = 3;

/** Session events of the raw topic for one account, parsed. */
export async function sessionEvents(kafka: Kafka, topics: TopicNames, venue: string, account: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const r of await readTopicToEnd(kafka, topics.raw)) {
    if (String(r.key) !== `${venue}|${account}` || headerString(r.headers, 'frame-kind') !== 'session') continue;
    out.push(JSON.parse(String(r.value)) as Record<string, unknown>);
  }
  return out;
}

export function gapScenario(makeRig: (account: string) => Promise<GapRig>, options: GapScenarioOptions): void {
  const lifecycles = options.lifecycles ?? 40;
  const intervalMs = options.intervalMs ?? 20;
  const logger = silentLogger();
  const serdes = orderSerdes();
  let kafka: Kafka;
  let topics: TopicNames;
  let rig: GapRig;
  let collector: CollectorApp;
  let normalizer: NormalizerApp;
  let orderState: OrderStateApp;
  /** orders that began and ended while the venue was unreachable */
  const insideGaps = new Set<string>();
  /** orders whose detail lookups fail and that history leaves out: the only ones allowed to end CLOSED_UNKNOWN */
  const untellable = new Set<string>();

  const expected = (): Map<string, Partial<CanonicalOrder>> => {
    const out = new Map<string, Partial<CanonicalOrder>>();
    for (const [key, e] of rig.expected()) {
      if (!options.history && insideGaps.has(key)) continue;
      out.set(key, untellable.has(key) ? { status: 'CLOSED_UNKNOWN' } : pickChecked(e));
    }
    return out;
  };

  const mismatches = (want: Map<string, Partial<CanonicalOrder>>) =>
    [...want].filter(([key, w]) => {
      const got = orderState.store.get(key)?.order;
      return !got || Object.entries(w).some(([k, v]) => got[k as keyof CanonicalOrder] !== v);
    });

  async function converge(phase: string): Promise<Map<string, Partial<CanonicalOrder>>> {
    const want = expected();
    await waitFor(() => mismatches(want).length === 0, { timeoutMs: 60_000, intervalMs: 250, description: `${phase}: order-state to equal the venue's truth (${want.size} orders)` }).catch(
      (error: unknown) => {
        const wrong = mismatches(want);
        const [key, w] = wrong[0] ?? [];
        throw new Error(`${String(error)}; ${wrong.length} differ, first ${key}: want ${JSON.stringify(w)} got ${JSON.stringify(pickChecked(orderState.store.get(key ?? '')?.order ?? {}))}`);
      },
    );
    return want;
  }

  /** Waits until the state holds every order the venue has live now, so a gap that follows is one the state saw. */
  async function stateSeesLive(): Promise<string[]> {
    const live = rig.liveOrderIds();
    await waitFor(() => live.every((id) => orderState.store.get(rig.orderKeyOf(id)) !== undefined), {
      timeoutMs: 30_000, intervalMs: 50, description: 'order-state to hold the orders live at the venue',
    });
    return live;
  }

  /**
   * One gap: drop and refuse connections, let `during` happen, reconnect, wait until subscribed again and until the
   * reconnect's reconciliation has completed (a new gap closes the connection and with it a run still going, so
   * without this wait a venue whose run takes longer than the next interrupt, e.g. under its rate limit or the
   * faults below, never finishes one).
   */
  async function gap(during: () => Promise<void>): Promise<void> {
    const runs = collector.stats().reconcile.runs;
    rig.interrupt();
    await during();
    rig.resume();
    await rig.ready();
    await waitFor(() => collector.stats().reconcile.runs > runs, { timeoutMs: 60_000, intervalMs: 50, description: "the reconnect's reconciliation to complete" });
  }

  describe(`exact state after every gap`, () => {
    beforeAll(async () => {
      kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-gaps', logger });
      const prefix = `${uniqueName('e2e-gaps')}.`;
      topics = topicNames(prefix);
      await ensurePipelineTopics(kafka, { prefix, rawPartitions: 2, orderPartitions: ORDER_PARTITIONS, profile: 'test' });
      rig = await makeRig('gaps');
      collector = createCollectorApp({
        kafka, topics, logger, progressEveryMs: 0, decodeState: serdes.decodeState,
        accounts: [{ account: rig.account, client: rig.client, reconcile: GAP_RECONCILE }],
      });
      normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference: rig.reference, serde: serdes, logger, progressEveryMs: 0 });
      orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
      await Promise.all([normalizer.start(), orderState.start()]);
      await collector.start();
      await rig.ready();
    });

    afterAll(async () => {
      await collector?.stop();
      await Promise.all([normalizer?.stop(), orderState?.stop()]);
      await rig?.stop();
    });

    it('orders that finish, and that begin and end, inside gaps end exactly as the venue says; REST faults only delay it', async () => {
      const main = rig.play(lifecycles, { intervalMs, seed: 1 });
      await waitFor(() => rig.expected().size >= lifecycles, { timeoutMs: 30_000, intervalMs: 20, description: 'every order of the main play to exist at the venue' });
      for (let g = 0; g < 3; g++) {
        await stateSeesLive();
        await gap(async () => {
          const before = new Set(rig.expected().keys());
          await rig.play(3, { intervalMs: 2, seed: 100 + g });
          for (const key of rig.expected().keys()) if (!before.has(key)) insideGaps.add(key);
          await sleep(300);
          // The second gap's reconciliation meets a rate limit and a server error before it gets through.
          if (g === 1) {
            rig.restFaults.knobs.rateLimitNext = 2;
            rig.restFaults.knobs.errorNext = 1;
          }
        });
      }
      await main;
      expect(insideGaps.size).toBe(9);
      const want = await converge('after three gaps');
      expect([...want.values()].filter((e) => e.status === 'CLOSED_UNKNOWN')).toEqual([]);
      if (!options.history) for (const key of insideGaps) expect(orderState.store.get(key)).toBeUndefined();
      // Orders the venue finished are not live in the state, and nothing is there that the venue does not have.
      const truth = rig.expected();
      const phantoms = [...orderState.store.entries()].filter(([key]) => !truth.has(key)).map(([key]) => key);
      expect(phantoms).toEqual([]);

      const events = await sessionEvents(kafka, topics, rig.venue, rig.account);
      const reconciled = events.filter((e) => e.event === 'reconciled');
      expect(reconciled.length).toBeGreaterThanOrEqual(4); // at start and after each of the three gaps
      const failed = events.filter((e) => e.event === 'error' && String(e.reason).startsWith('reconciliation failed'));
      expect(failed.length).toBeGreaterThanOrEqual(1);
      expect(rig.restFaults.stats.rateLimited).toBeGreaterThanOrEqual(2);

      await waitForStateTopic(kafka, topics, want, 60_000);
      const dlq = await readTopicToEnd(kafka, topics.dlq);
      expect(dlq.map((r) => `${r.headers['dlq-code']}: ${String(r.headers['dlq-message'])}`)).toEqual([]);
    });

    it('orders the venue can no longer tell about end CLOSED_UNKNOWN, and only those', async () => {
      const play = rig.play(12, { intervalMs: intervalMs * 2, seed: 7 });
      await waitFor(() => rig.liveOrderIds().length >= 4, { timeoutMs: 30_000, intervalMs: 10, description: 'four live orders' });
      await stateSeesLive();
      await gap(async () => {
        // Chosen as the gap begins (synchronously after interrupt(), so no push goes out in between): orders the
        // venue still has live cannot have sent their final push, and the state holds them live. Chosen earlier, an
        // order of a venue with short lifecycles could finish, and its final push reach the state, before the gap.
        const live = rig.liveOrderIds().filter((id) => {
          const held = orderState.store.get(rig.orderKeyOf(id))?.order.status;
          return held !== undefined && !isTerminal(held);
        });
        expect(live.length, 'orders live at the venue and in the state when the gap begins').toBeGreaterThanOrEqual(2);
        for (const id of live.slice(0, 2)) {
          rig.restFaults.knobs.failDetailFor.add(id);
          untellable.add(rig.orderKeyOf(id));
        }
        await play; // every order of this play finishes while the venue is unreachable
      });
      await converge('after a gap with untellable orders');
      const closed = [...orderState.store.entries()].filter(([, s]) => s.order.status === 'CLOSED_UNKNOWN').map(([key]) => key);
      expect(closed.sort()).toEqual([...untellable].sort());
      expect(rig.restFaults.stats.detailFailures).toBeGreaterThanOrEqual(2);
    });

    it('replaying orders.raw.v1 through a fresh normalizer and order-state gives the same state', async () => {
      const prefix = `${uniqueName('e2e-gaps-replay')}.`;
      const replay: TopicNames = { ...topicNames(prefix), raw: topics.raw };
      await ensurePipelineTopics(kafka, { prefix, rawPartitions: 1, orderPartitions: ORDER_PARTITIONS, profile: 'test' });
      const n2 = createNormalizerApp({ kafka, topics: replay, groupId: uniqueName('replay-normalizer'), lookup: mapperLookup, reference: rig.reference, serde: serdes, logger, progressEveryMs: 0 });
      const s2 = createOrderStateApp({ kafka, topics: replay, groupId: uniqueName('replay-order-state'), serde: serdes, logger, progressEveryMs: 0 });
      await Promise.all([n2.start(), s2.start()]);
      try {
        const original = new Map([...orderState.store.entries()].map(([key, s]) => [key, JSON.stringify(pickChecked(s.order))]));
        const differ = () => [...original].filter(([key, v]) => JSON.stringify(pickChecked(s2.store.get(key)?.order ?? {})) !== v);
        await waitFor(() => differ().length === 0 && s2.store.size === original.size, {
          timeoutMs: 150_000, intervalMs: 250, description: `the replayed state to equal the live one (${original.size} orders)`,
        }).catch((error: unknown) => {
          throw new Error(`${String(error)}; ${differ().length} differ, replayed ${s2.store.size} of ${original.size}, e.g. ${JSON.stringify(differ()[0])}`);
        });
      } finally {
        await Promise.all([n2.stop(), s2.stop()]);
      }
    }, 180_000);
  });
}
