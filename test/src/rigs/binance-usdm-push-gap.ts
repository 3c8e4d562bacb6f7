import { silentLogger } from '@orderstream/kit';
import { BINANCE_USDM_SIM_INSTRUMENTS, BinanceUsdmClient, binanceUsdmExpectedCanonical, BinanceUsdmSimulator, type BinanceUsdmSimulatorOptions } from '@orderstream/venues';
import { gapRig } from './gap-rig.js';
import type { GapRig } from './types.js';

export interface BinanceUsdmPushGapRig extends GapRig {
  client: BinanceUsdmClient;
  sim: BinanceUsdmSimulator;
}

/**
 * Binance USDⓈ-M with the user data stream (issue 8) in the gap scenario: nobody tracks anything. Every order reaches
 * the collector by push (ORDER_TRADE_UPDATE on the stream's socket); pushes sent while the sockets are down are lost,
 * and the REST reconciliation + order.status confirmation after every (re)connect of the stream recover them.
 */
export async function binanceUsdmPushGapRig(account: string, simOptions: BinanceUsdmSimulatorOptions = {}): Promise<BinanceUsdmPushGapRig> {
  const key = { apiKey: 'push-bn-key', apiSecret: 'push-bn-secret' };
  const sim = await BinanceUsdmSimulator.start({ hmacKeys: [key], ...simOptions });
  const accountConfig = {
    wsUrl: sim.wsUrl,
    restUrl: sim.restUrl,
    ...key,
    maxRequestsPerSecond: 40,
    burst: 20,
    // the symbols this account trades: their history is read after every gap of the stream
    symbols: BINANCE_USDM_SIM_INSTRUMENTS.map((i) => i.symbol),
    userDataStream: { tickMs: 50 },
  };
  const client = BinanceUsdmClient.fromConfig(accountConfig, { logger: silentLogger() });
  return {
    ...gapRig(sim, {
      venue: 'binance-usdm',
      account,
      client,
      accountConfig,
      reference: sim.referenceData(),
      // both sockets up: the WebSocket API (order.status) and the user data stream
      ready: () => sim.waitUntil(() => !sim.interrupted && sim.stats().userStreamSockets > 0 && sim.sockets.length > sim.stats().userStreamSockets, 30_000, 'the WebSocket API and the user data stream'),
      play: async (count, { intervalMs, seed }) => {
        // randomLifecycles derives ids from the seed: each seed of the scenario gives ids never used before. No track().
        await sim.play(sim.randomLifecycles(count, seed), { intervalMs });
      },
      expectedOf: (t) => binanceUsdmExpectedCanonical(t, account),
    }),
    client,
    sim,
  };
}
