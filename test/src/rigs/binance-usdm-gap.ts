import { silentLogger } from '@orderstream/kit';
import { BINANCE_USDM_SIM_INSTRUMENTS, BinanceUsdmClient, binanceUsdmExpectedCanonical, BinanceUsdmSimulator } from '@orderstream/venues';
import { gapRig } from './gap-rig.js';
import type { GapRig } from './types.js';

/**
 * Binance USDⓈ-M in the gap scenario: the simulator's order book keeps moving while no client is connected (nobody
 * polls meanwhile), serves GET /fapi/v1/openOrders, /fapi/v1/order and /fapi/v1/allOrders with signature checks and
 * the shared IP weight, and faults them on demand (sim.restFaults). Each new order is tracked the way a downstream
 * system does it (orders.track.v1 → client.track), so the order.status poller follows it; orders that begin and end
 * inside a gap are never tracked: only the REST history can find them.
 */
export async function binanceUsdmGapRig(account: string): Promise<GapRig> {
  const key = { apiKey: 'gap-bn-key', apiSecret: 'gap-bn-secret' };
  const sim = await BinanceUsdmSimulator.start({ hmacKeys: [key] });
  const accountConfig = {
    wsUrl: sim.wsUrl,
    restUrl: sim.restUrl,
    ...key,
    pollIntervalMs: 200,
    maxRequestsPerSecond: 40,
    burst: 20,
    // the symbols this account trades: their history is read after every gap
    symbols: BINANCE_USDM_SIM_INSTRUMENTS.map((i) => i.symbol),
  };
  const client = BinanceUsdmClient.fromConfig(accountConfig, { logger: silentLogger() });
  return gapRig(sim, {
    venue: 'binance-usdm',
    account,
    client,
    accountConfig,
    reference: sim.referenceData(),
    ready: () => sim.waitUntil(() => !sim.interrupted && sim.sockets.length > 0, 30_000, 'a WebSocket API connection'),
    play: async (count, { intervalMs, seed }) => {
      // randomLifecycles derives ids from the seed: each seed of the scenario gives ids never used before.
      const lcs = sim.randomLifecycles(count, seed);
      sim.place(lcs);
      if (!sim.interrupted) for (const lc of lcs) client.track({ symbol: lc.symbol, orderId: lc.orderId, origin: 'track-topic' });
      await sim.play(lcs, { intervalMs });
    },
    expectedOf: (t) => binanceUsdmExpectedCanonical(t, account),
  });
}
