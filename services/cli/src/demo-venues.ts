import type { Logger } from '@orderstream/kit';
import {
  BinanceUsdmClient, BinanceUsdmSimulator, BsxClient, BsxSimulator, LoopringClient, LoopringSimulator, WebseaClient, WebseaSimulator, XtClient,
  xtClientConfigSchema, XtSimulator, type ReferenceData, type XtMalformedKind, type VenueClient, type VenueId,
} from '@orderstream/venues';

/** One simulated venue of the demo: its simulator, a collector client for it, and a way to play a round. */
export interface DemoVenue {
  venue: VenueId;
  account: string;
  client: VenueClient;
  reference: ReferenceData;
  ready(): Promise<void>;
  /** plays `count` new lifecycles (ids unique per round) */
  round(count: number, round: number): Promise<void>;
  /** sends one malformed frame, as a venue now and then does (the demo's dead-letter path); returns its kind */
  malformed?(n: number): string;
  stop(): Promise<void>;
}

const PACE_MS = 300;
const XT_MALFORMED: XtMalformedKind[] = ['invalid-json', 'wrong-types', 'unknown-state'];

/** Starts every simulated venue of the demo, with credentials of their own that the simulators check. */
export async function startDemoVenues(logger: Logger): Promise<DemoVenue[]> {
  const log = (venue: string) => logger.child({ venue });
  const xt = await XtSimulator.start({ apiKey: 'demo-xt-key', apiSecret: 'demo-xt-secret' });
  const websea = await WebseaSimulator.start({ token: 'demo-websea-token', secretKey: 'demo-websea-secret' });
  const loopring = await LoopringSimulator.start({ apiKey: 'demo-loopring-key' });
  const bsx = await BsxSimulator.start({ apiKey: 'demo-bsx-key', apiSecret: 'demo-bsx-secret' });
  const binance = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: 'demo-binance-key', apiSecret: 'demo-binance-secret' }] });
  const binanceClient = BinanceUsdmClient.fromConfig(
    // the account's user data stream pushes every order (issue 8); order.status and REST confirm after each (re)connect
    { wsUrl: binance.wsUrl, apiKey: 'demo-binance-key', apiSecret: 'demo-binance-secret', pollIntervalMs: 500, userDataStream: true },
    { logger: log('binance-usdm') },
  );
  const seedBase = Date.now() % 100_000;
  return [
    {
      venue: 'xt', account: 'futures',
      client: new XtClient(xtClientConfigSchema.parse({ restUrl: xt.restUrl, wsUrl: xt.wsUrl, apiKey: 'demo-xt-key', apiSecret: 'demo-xt-secret' }), { logger: log('xt') }),
      reference: xt.referenceData(),
      ready: () => xt.waitForSubscribers(1, 30_000),
      round: async (n, r) => void (await xt.play(xt.randomLifecycles(n, seedBase + r), { intervalMs: PACE_MS })),
      malformed: (n) => {
        const kind = XT_MALFORMED[n % XT_MALFORMED.length] as XtMalformedKind;
        xt.injectMalformed(kind);
        return kind;
      },
      stop: () => xt.stop(),
    },
    {
      venue: 'websea', account: 'spot',
      client: WebseaClient.fromConfig({ wsUrl: websea.wsUrl, token: 'demo-websea-token', secretKey: 'demo-websea-secret' }, { logger: log('websea') }),
      reference: {},
      ready: () => websea.waitForSubscribers(1, 30_000),
      round: async (n, r) => void (await websea.play(websea.randomLifecycles(n, seedBase + r), { intervalMs: PACE_MS })),
      stop: () => websea.stop(),
    },
    {
      venue: 'loopring', account: 'dex',
      client: LoopringClient.fromConfig({ restUrl: loopring.restUrl, wsUrl: loopring.wsUrl, apiKey: 'demo-loopring-key', markets: loopring.markets }, { logger: log('loopring') }),
      reference: loopring.referenceData(),
      ready: () => loopring.waitForSubscribers(1, 30_000),
      round: async (n, r) => void (await loopring.play(loopring.randomLifecycles(n, seedBase + r), { intervalMs: PACE_MS })),
      stop: () => loopring.stop(),
    },
    {
      venue: 'bsx', account: 'perps',
      client: BsxClient.fromConfig({ wsUrl: bsx.wsUrl, apiKey: 'demo-bsx-key', apiSecret: 'demo-bsx-secret' }, { logger: log('bsx') }),
      reference: {},
      ready: () => bsx.waitForSubscribers(1, 30_000),
      round: async (n, r) => void (await bsx.play(bsx.randomLifecycles(n, seedBase + r), { intervalMs: PACE_MS })),
      stop: () => bsx.stop(),
    },
    {
      // By push: the user data stream sees every order of the account; nothing needs to be tracked.
      venue: 'binance-usdm', account: 'futures',
      client: binanceClient,
      reference: {},
      ready: () => binance.waitForConnections(0, 1),
      round: async (n, r) => {
        const script = binance.randomLifecycles(n, seedBase + r);
        await binance.play(script, { intervalMs: PACE_MS });
      },
      stop: () => binance.stop(),
    },
  ];
}
