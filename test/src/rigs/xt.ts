import { silentLogger } from '@orderstream/kit';
import { XtClient, xtClientConfigSchema, xtExpectedCanonical, XtSimulator } from '@orderstream/venues';
import type { VenueRig } from './types.js';

export async function xtRig(account: string, lifecycles: number, seed: number): Promise<VenueRig> {
  const sim = await XtSimulator.start({ apiKey: 'rig-xt-key', apiSecret: 'rig-xt-secret' });
  const client = new XtClient(xtClientConfigSchema.parse({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'rig-xt-key', apiSecret: 'rig-xt-secret' }), { logger: silentLogger() });
  const reference = sim.referenceData();
  // A venue that publishes orders through several shards can swap frames of different orders and repeat some.
  sim.faults.duplicateRate = 0.1;
  sim.faults.reorder = 0.2;
  return {
    venue: 'xt', account, client, reference,
    ready: () => sim.waitForSubscribers(1, 20_000),
    play: async (intervalMs = 0) => {
      await sim.play(sim.randomLifecycles(lifecycles, seed), { intervalMs });
    },
    expected: () =>
      new Map([...sim.truth().values()].map((t) => {
        const e = xtExpectedCanonical(t, account, reference.xt?.[t.symbol]?.contractSize);
        return [e.orderKey, e];
      })),
    stop: () => sim.stop(),
  };
}
