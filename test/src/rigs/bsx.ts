import { silentLogger } from '@orderstream/kit';
import { BsxClient, bsxExpectedCanonical, bsxExpectedSeen, BsxSimulator } from '@orderstream/venues';
import type { VenueRig } from './types.js';

/**
 * BSX: a snapshot of open orders on every subscribe, then updates (several orders per frame at times). The
 * disruption drops the connection and finishes some live orders while nobody is connected: the reconnect's
 * fresh snapshot lacks them, so order-state must close them as CLOSED_UNKNOWN with what was last seen.
 */
export async function bsxRig(account: string, lifecycles: number, seed: number): Promise<VenueRig> {
  const sim = await BsxSimulator.start({ apiKey: 'rig-bsx-key', apiSecret: 'rig-bsx-secret' });
  const client = BsxClient.fromConfig({ wsUrl: sim.wsUrl, apiKey: 'rig-bsx-key', apiSecret: 'rig-bsx-secret' }, { logger: silentLogger() });
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
    expected: () =>
      new Map(
        [...sim.truth().values()].map((t) => {
          if (!t.finishedUnseen) {
            const e = bsxExpectedCanonical(t, account);
            return [e.orderKey, e];
          }
          const seen = bsxExpectedSeen(t, account);
          if (!seen) throw new Error(`BSX order ${t.order.id} finished unseen and was never seen`);
          return [seen.orderKey, { ...seen, status: 'CLOSED_UNKNOWN' as const }];
        }),
      ),
    stop: () => sim.stop(),
  };
}
