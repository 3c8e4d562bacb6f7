import { silentLogger } from '@orderstream/kit';
import { LoopringClient, loopringExpectedCanonical, LoopringSimulator } from '@orderstream/venues';
import type { VenueRig } from './types.js';

export async function loopringRig(account: string, lifecycles: number, seed: number): Promise<VenueRig> {
  const sim = await LoopringSimulator.start({ apiKey: 'rig-loopring-key', pingIntervalMs: 2_000 });
  const client = LoopringClient.fromConfig({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'rig-loopring-key', markets: sim.markets }, { logger: silentLogger() });
  const reference = sim.referenceData();
  sim.faults.duplicateRate = 0.1;
  return {
    venue: 'loopring', account, client, reference,
    ready: () => sim.waitForSubscribers(1, 20_000),
    play: async (intervalMs = 0) => {
      await sim.play(sim.randomLifecycles(lifecycles, seed), { intervalMs });
    },
    expected: () =>
      new Map([...sim.truth().values()].map((t) => {
        const e = loopringExpectedCanonical(t, account, reference);
        return [e.orderKey, e];
      })),
    stop: () => sim.stop(),
  };
}
