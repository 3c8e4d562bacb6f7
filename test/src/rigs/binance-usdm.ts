import { silentLogger } from '@orderstream/kit';
import { BinanceUsdmClient, binanceUsdmExpectedCanonical, BinanceUsdmSimulator, type BinanceUsdmLifecycle } from '@orderstream/venues';
import type { VenueRig } from './types.js';

export interface BinanceUsdmRig extends VenueRig {
  client: BinanceUsdmClient;
  /** ORDER_TRADE_UPDATE (and other) events the simulator pushed on the account's user data stream so far */
  pushed(): number;
}

/**
 * Binance USDⓈ-M by push (issue 8): the account's user data stream is on, nobody tracks anything. play() places the
 * orders and moves them to their final states; every step is pushed as ORDER_TRADE_UPDATE, and order.status confirms
 * each finished order once (cumulative quote, creation time).
 */
export async function binanceUsdmRig(account: string, lifecycles: number, seed: number): Promise<BinanceUsdmRig> {
  const sim = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: 'rig-bn-key', apiSecret: 'rig-bn-secret' }] });
  const client = BinanceUsdmClient.fromConfig(
    { wsUrl: sim.wsUrl, apiKey: 'rig-bn-key', apiSecret: 'rig-bn-secret', pollIntervalMs: 200, userDataStream: { tickMs: 50 } },
    { logger: silentLogger() },
  );
  const script: BinanceUsdmLifecycle[] = sim.randomLifecycles(lifecycles, seed);
  return {
    venue: 'binance-usdm', account, client, reference: {},
    // both sockets: the WebSocket API and the user data stream (orders placed before it would only be found by REST)
    ready: () => sim.waitUntil(() => sim.stats().userStreamSockets > 0 && sim.sockets.length > sim.stats().userStreamSockets, 20_000, 'the WebSocket API and the user data stream'),
    play: async (intervalMs = 20) => {
      await sim.play(script, { intervalMs });
    },
    pushed: () => sim.stats().userStreamEventsPushed,
    expected: () =>
      new Map([...sim.truth().values()].map((t) => {
        const e = binanceUsdmExpectedCanonical(t, account);
        return [e.orderKey, e];
      })),
    stop: () => sim.stop(),
  };
}
