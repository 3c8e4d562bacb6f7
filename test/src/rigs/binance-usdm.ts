import { silentLogger } from '@orderstream/kit';
import { BinanceUsdmClient, binanceUsdmExpectedCanonical, BinanceUsdmSimulator, type BinanceUsdmLifecycle } from '@orderstream/venues';
import type { VenueRig } from './types.js';

/**
 * Binance USDⓈ-M: request/response (order.status). Orders are placed on the simulator first; the test asks the
 * collector to track them through orders.track.v1, as a downstream system would; play() then moves them to their
 * final states while the client polls within its request budget.
 */
export async function binanceUsdmRig(account: string, lifecycles: number, seed: number): Promise<VenueRig> {
  const sim = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: 'rig-bn-key', apiSecret: 'rig-bn-secret' }] });
  const client = BinanceUsdmClient.fromConfig({ wsUrl: sim.wsUrl, apiKey: 'rig-bn-key', apiSecret: 'rig-bn-secret', pollIntervalMs: 200 }, { logger: silentLogger() });
  const script: BinanceUsdmLifecycle[] = sim.randomLifecycles(lifecycles, seed);
  sim.place(script);
  return {
    venue: 'binance-usdm', account, client, reference: {},
    ready: () => sim.waitForConnections(1, 20_000),
    trackRequests: () => script.map((l) => ({ venue: 'binance-usdm', account, symbol: l.symbol, orderId: l.orderId })),
    play: async (intervalMs = 20) => {
      await sim.play(script, { intervalMs });
    },
    expected: () =>
      new Map([...sim.truth().values()].map((t) => {
        const e = binanceUsdmExpectedCanonical(t, account);
        return [e.orderKey, e];
      })),
    stop: () => sim.stop(),
  };
}
