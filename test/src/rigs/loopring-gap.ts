import { silentLogger } from '@orderstream/kit';
import { LoopringClient, loopringExpectedCanonical, LoopringSimulator } from '@orderstream/venues';
import { gapRig } from './gap-rig.js';
import type { GapRig } from './types.js';

const API_KEY = 'rig-loopring-gap-key';
const ACCOUNT_ID = 10010;

/**
 * Loopring in the gap scenario: the simulator's relayer keeps playing lifecycles while the collector is cut off
 * (their pushes reach nobody) and serves the REST order queries the client reconciles with (v2: open orders per
 * market, history since the gap by creation time, detail by hash). Duplicated pushes stay on (cumulative figures).
 */
export async function loopringGapRig(account: string): Promise<GapRig> {
  const sim = await LoopringSimulator.start({ apiKey: API_KEY, accountId: ACCOUNT_ID, pingIntervalMs: 2_000 });
  const accountConfig = { restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: API_KEY, markets: sim.markets, accountId: ACCOUNT_ID, restApi: 'v2' };
  const client = LoopringClient.fromConfig(accountConfig, { logger: silentLogger() });
  const reference = sim.referenceData();
  sim.faults.duplicateRate = 0.05;
  return gapRig(sim, {
    venue: 'loopring',
    account,
    client,
    accountConfig,
    reference,
    play: async (count, { intervalMs, seed }) => {
      await sim.play(sim.randomLifecycles(count, seed), { intervalMs });
    },
    expectedOf: (t) => loopringExpectedCanonical(t, account, reference),
  });
}
