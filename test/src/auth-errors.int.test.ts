/**
 * Wrong credentials, every venue: each simulator checks the signature and refuses with the venue's documented
 * error; the collector keeps retrying and records each refusal in orders.raw.v1 as a session event carrying the
 * venue's own code, in order with the data, without ever writing the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, headerString, orderSerdes, readTopicToEnd, topicNames, type Kafka, type TopicNames } from '@orderstream/kafka';
import {
  BinanceUsdmClient, BinanceUsdmSimulator, BsxClient, BsxSimulator, LoopringClient, LoopringSimulator, WebseaClient, WebseaSimulator, XtClient, xtClientConfigSchema, XtSimulator,
  type VenueClient,
} from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';

const WRONG = 'wrong-secret-never-logged';

interface Case {
  venue: string;
  /** refusals to see as session events: 2 shows the retry, but Binance reports one per code per period */
  events: number;
  /** the venue saw this many attempts (retrying), where it counts them */
  attempts?: () => number;
  /** the venue's documented error code for this refusal */
  code: string | number;
  client: VenueClient;
  stop(): Promise<void>;
}

describe('wrong credentials become session events with the venue\'s code', () => {
  let kafka: Kafka;
  let topics: TopicNames;
  let collector: CollectorApp;
  const cases: Case[] = [];
  const logger = silentLogger();

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-auth', logger });
    const prefix = `${uniqueName('e2e-auth')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, profile: 'test' });

    const xt = await XtSimulator.start({ apiKey: 'k', apiSecret: 'right' });
    cases.push({ venue: 'xt', events: 2, code: 'AUTH_103', client: new XtClient(xtClientConfigSchema.parse({ restUrl: xt.restUrl, wsUrl: xt.wsUrl, apiKey: 'k', apiSecret: WRONG }), { logger }), stop: () => xt.stop() });
    const websea = await WebseaSimulator.start({ token: 't', secretKey: 'right' });
    cases.push({ venue: 'websea', events: 2, code: 20506, client: WebseaClient.fromConfig({ wsUrl: websea.wsUrl, token: 't', secretKey: WRONG }, { logger }), stop: () => websea.stop() });
    const loopring = await LoopringSimulator.start({ apiKey: 'right' });
    cases.push({ venue: 'loopring', events: 2, code: 104112, client: LoopringClient.fromConfig({ restUrl: loopring.restUrl, wsUrl: loopring.wsUrl, apiKey: WRONG, markets: loopring.markets }, { logger }), stop: () => loopring.stop() });
    const bsx = await BsxSimulator.start({ apiKey: 'k', apiSecret: 'right' });
    cases.push({ venue: 'bsx', events: 2, code: 400, client: BsxClient.fromConfig({ wsUrl: bsx.wsUrl, apiKey: 'k', apiSecret: WRONG }, { logger }), stop: () => bsx.stop() });

    const binance = await BinanceUsdmSimulator.start({ hmacKeys: [{ apiKey: 'k', apiSecret: 'right' }] });
    const tracked = binance.randomLifecycles(1, 7)[0]!;
    binance.place([tracked]);
    cases.push({
      venue: 'binance-usdm', code: -1022, events: 1, attempts: () => binance.requestTimes().length,
      client: BinanceUsdmClient.fromConfig({ wsUrl: binance.wsUrl, apiKey: 'k', apiSecret: WRONG, track: [{ symbol: tracked.symbol, orderId: tracked.orderId }] }, { logger }),
      stop: () => binance.stop(),
    });

    collector = createCollectorApp({
      kafka, topics, accounts: cases.map((c) => ({ account: 'acct', client: c.client })), decodeState: orderSerdes().decodeState, logger, progressEveryMs: 0,
    });
    await collector.start();
  });

  afterAll(async () => {
    await collector?.stop();
    await Promise.all(cases.map((c) => c.stop()));
  });

  it('records each venue\'s refusal code and keeps retrying', async () => {
    type Event = { event: string; code?: string | number; venue: string };
    const sessionEvents = async (): Promise<Event[]> =>
      (await readTopicToEnd(kafka, topics.raw))
        .filter((r) => headerString(r.headers, 'frame-kind') === 'session')
        .map((r) => {
          expect(r.value?.toString()).not.toContain(WRONG);
          return JSON.parse(String(r.value)) as Event;
        });
    const events = await waitFor(
      async () => {
        const all = await sessionEvents();
        // refusals per venue: the collector retries with backoff
        return cases.every((c) => all.filter((e) => e.venue === c.venue && e.event === 'error' && e.code === c.code).length >= c.events && (c.attempts?.() ?? 2) >= 2) && all;
      },
      { timeoutMs: 45_000, intervalMs: 500, description: 'refusals with the documented code from every venue' },
    );
    for (const c of cases) {
      const errors = events.filter((e) => e.venue === c.venue && e.event === 'error');
      expect(errors.map((e) => e.code), c.venue).toContain(c.code);
      if (c.venue !== 'binance-usdm') expect(events.some((e) => e.venue === c.venue && e.event === 'subscribed'), `${c.venue} never subscribes`).toBe(false);
    }
  });
});
