import { silentLogger } from '@orderstream/kit';
import { BsxClient, bsxExpectedCanonical, BsxSimulator } from '@orderstream/venues';
import type { VenueRig } from './types.js';

/**
 * BSX: a snapshot of open orders on every subscribe, then updates (several orders per frame at times). The
 * disruption drops the connection and finishes some live orders while nobody is connected: the reconnect's fresh
 * snapshot lacks them (order-state may close them as CLOSED_UNKNOWN for a moment), and the reconciliation that
 * follows the resubscribe reads their real outcome over REST (history, or the order by id), which replaces it.
 */
/** The BSX rig, plus which of its orders finished while no client was connected. */
export type BsxRig = VenueRig & { finishedUnseen(): string[] };

export async function bsxRig(account: string, lifecycles: number, seed: number): Promise<BsxRig> {
  const sim = await BsxSimulator.start({ apiKey: 'rig-bsx-key', apiSecret: 'rig-bsx-secret' });
  const client = BsxClient.fromConfig(
    { wsUrl: sim.wsUrl, restUrl: sim.httpUrl, apiKey: 'rig-bsx-key', apiSecret: 'rig-bsx-secret' },
    { logger: silentLogger() },
  );
  sim.faults.duplicateRate = 0.1;
  sim.multiOrderRate = 0.3;
  return {
    venue: 'bsx', account, client, reference: {},
    ready: () => sim.waitForSubscribers(1, 20_000),
    play: async (intervalMs = 0) => {
      await sim.play(sim.randomLifecycles(lifecycles, seed), { intervalMs });
    },
    disrupt: async () => {
      const live = sim.liveOrderIds();
      if (live.length < 2) throw new Error(`BSX rig needs live orders to finish while disconnected; got ${live.length}`);
      sim.finishWhileDisconnected(live.slice(0, Math.ceil(live.length / 2)), 'cancel');
      await sim.waitForSubscribers(1, 20_000); // reconnected, re-authenticated, fresh snapshot sent
      return live.length;
    },
    // The venue's truth for every order, those that finished while disconnected included (REST tells their outcome).
    expected: () =>
      new Map(
        [...sim.truth().values()].map((t) => {
          const e = bsxExpectedCanonical(t, account);
          return [e.orderKey, e];
        }),
      ),
    /** ids of the orders that finished at the venue while no client was connected (their pushes were lost) */
    finishedUnseen: () => [...sim.truth().values()].filter((t) => t.finishedUnseen).map((t) => t.order.id),
    stop: () => sim.stop(),
  };
}
