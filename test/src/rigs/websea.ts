import { silentLogger } from '@orderstream/kit';
import { WebseaClient, webseaExpectedState, WebseaSimulator } from '@orderstream/venues';
import type { VenueRig } from './types.js';

export async function webseaRig(account: string, lifecycles: number, seed: number): Promise<VenueRig> {
  const sim = await WebseaSimulator.start({ token: 'rig-websea-token', secretKey: 'rig-websea-secret', binaryFrames: true });
  const client = WebseaClient.fromConfig({ wsUrl: sim.wsUrl, token: 'rig-websea-token', secretKey: 'rig-websea-secret' }, { logger: silentLogger() });
  // WebSea pushes one execution at a time; repeated pushes must not count twice in the summed state.
  sim.faults.duplicateRate = 0.25;
  return {
    venue: 'websea', account, client, reference: {},
    ready: () => sim.waitForSubscribers(1, 20_000),
    play: async (intervalMs = 0) => {
      await sim.play(sim.randomLifecycles(lifecycles, seed), { intervalMs });
    },
    expected: () =>
      new Map([...sim.truth().values()].map((t) => {
        const e = webseaExpectedState(t, account).order;
        return [e.orderKey as string, e];
      })),
    stop: () => sim.stop(),
  };
}
