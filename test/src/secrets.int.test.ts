/**
 * No secret leaks, anywhere. The whole pipeline runs as in production (collector, normalizer and order-state as
 * processes of the built code, at LOG_LEVEL=trace) against all five venue simulators, with recognisable fake
 * credentials in every place a secret can be given: literal in the accounts file, through {"env": …} references,
 * an Ed25519 private key, a wrong secret (so the venue refuses it and the error path runs), and URLs with user-info
 * (refused at start). Afterwards no log line, no record of any topic (key, value, headers; raw frames with their
 * session events and REST requests, dead letters, canonical, state), no query API answer (/orders, /metrics) and
 * no error message may contain any of them.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import { createKafka, ensurePipelineTopics, readTopicToEnd, topicNames, type InRecord, type Kafka, type TopicNames } from '@orderstream/kafka';
import {
  BinanceUsdmSimulator, BsxSimulator, LoopringSimulator, WebseaSimulator, XtSimulator, type BinanceUsdmLifecycle,
} from '@orderstream/venues';
import { uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers } from '@orderstream/testing/vitest';
import { ServiceProcess } from './support/processes.js';

const LIFECYCLES = 5;

/** Every fake credential, each recognisable on its own. */
const SECRET = {
  xtKey: 'SECRET-xt-api-key-0001',
  xtSecret: 'SECRET-xt-api-secret-0002',
  xtWrongSecret: 'SECRET-xt-wrong-secret-0003',
  webseaToken: 'SECRET-websea-token-0004',
  webseaSecret: 'SECRET-websea-secret-key-0005',
  loopringKey: 'SECRET-loopring-api-key-0006',
  bsxKey: 'SECRET-bsx-api-key-0007',
  bsxSecret: 'SECRET-bsx-api-secret-0008',
  bnKey: 'SECRET-bn-hmac-api-key-0009',
  bnSecret: 'SECRET-bn-hmac-api-secret-0010',
  bnEdKey: 'SECRET-bn-ed25519-api-key-0011',
  urlPassword: 'SECRET-url-password-0012',
  urlEnvPassword: 'SECRET-url-env-password-0013',
  urlUser: 'SECRETurluser0014',
} as const;

const ed25519 = generateKeyPairSync('ed25519');
const edPrivatePem = ed25519.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** the private key's base64 body: no part of it may appear anywhere */
const edPrivateBody = edPrivatePem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

const secretValues = (): string[] => [...Object.values(SECRET), edPrivateBody, edPrivateBody.slice(16, 40)];

/** Every secret found in `text`, in any of the forms it could take (as is, URL-encoded, JSON-escaped). */
function leaksIn(text: string, extra: string[] = []): string[] {
  return [...secretValues(), ...extra].filter((s) => text.includes(s) || text.includes(encodeURIComponent(s)) || text.includes(JSON.stringify(s).slice(1, -1)));
}

function recordText(r: InRecord): string {
  const headers = Object.entries(r.headers ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(String).join(',') : String(v)}`);
  return [r.key?.toString('utf8') ?? '', r.value?.toString('utf8') ?? '', r.value?.toString('latin1') ?? '', ...headers].join('\n');
}

describe('no secret leaks, at LOG_LEVEL=trace, through the whole pipeline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderstream-secrets-'));
  const logger = silentLogger();
  let kafka: Kafka;
  let topics: TopicNames;
  let xt: XtSimulator;
  let websea: WebseaSimulator;
  let loopring: LoopringSimulator;
  let bsx: BsxSimulator;
  let binance: BinanceUsdmSimulator;
  let services: ServiceProcess[] = [];
  let script: BinanceUsdmLifecycle[] = [];
  let env: Record<string, string>;
  let prefix: string;

  beforeAll(async () => {
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-secrets', logger });
    prefix = `${uniqueName('e2e-secrets')}.`;
    topics = topicNames(prefix);
    await ensurePipelineTopics(kafka, { prefix, rawPartitions: 3, orderPartitions: 3, profile: 'test' });
    [xt, websea, loopring, bsx, binance] = await Promise.all([
      XtSimulator.start({ apiKey: SECRET.xtKey, apiSecret: SECRET.xtSecret }),
      WebseaSimulator.start({ token: SECRET.webseaToken, secretKey: SECRET.webseaSecret }),
      LoopringSimulator.start({ apiKey: SECRET.loopringKey, pingIntervalMs: 2_000 }),
      BsxSimulator.start({ apiKey: SECRET.bsxKey, apiSecret: SECRET.bsxSecret }),
      BinanceUsdmSimulator.start({
        hmacKeys: [{ apiKey: SECRET.bnKey, apiSecret: SECRET.bnSecret }],
        ed25519Keys: [{ apiKey: SECRET.bnEdKey, publicKeyPem: ed25519.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
      }),
    ]);
    script = binance.randomLifecycles(LIFECYCLES, 41);
    binance.place(script);

    const accountsFile = join(dir, 'accounts.json');
    writeFileSync(
      accountsFile,
      JSON.stringify({
        accounts: [
          // literal secrets in the file
          { venue: 'xt', account: 'main', config: { restUrl: xt.restUrl, wsUrl: xt.wsUrl, apiKey: SECRET.xtKey, apiSecret: SECRET.xtSecret } },
          // a secret the venue refuses: auth errors, retries, session events with the venue's error
          { venue: 'xt', account: 'refused', config: { restUrl: xt.restUrl, wsUrl: xt.wsUrl, apiKey: SECRET.xtKey, apiSecret: { env: 'XT_REFUSED_SECRET' } }, reconcile: { enabled: false } },
          // secrets through the environment
          { venue: 'websea', account: 'spot', config: { wsUrl: websea.wsUrl, token: { env: 'WEBSEA_TOKEN' }, secretKey: { env: 'WEBSEA_SECRET' } } },
          { venue: 'loopring', account: 'dex', config: { restUrl: loopring.restUrl, wsUrl: loopring.wsUrl, apiKey: { env: 'LOOPRING_API_KEY' }, markets: loopring.markets } },
          { venue: 'bsx', account: 'perps', config: { wsUrl: bsx.wsUrl, restUrl: bsx.httpUrl, apiKey: SECRET.bsxKey, apiSecret: SECRET.bsxSecret } },
          {
            venue: 'binance-usdm', account: 'futures',
            config: { wsUrl: binance.wsUrl, restUrl: binance.restUrl, apiKey: { env: 'BN_API_KEY' }, apiSecret: { env: 'BN_API_SECRET' }, pollIntervalMs: 200 },
          },
          // an Ed25519 private key (PEM, through the environment)
          {
            venue: 'binance-usdm', account: 'ed',
            config: { wsUrl: binance.wsUrl, restUrl: binance.restUrl, apiKey: SECRET.bnEdKey, ed25519PrivateKeyPem: { env: 'BN_ED25519_PEM' }, pollIntervalMs: 200 },
          },
        ],
      }),
    );
    env = {
      KAFKA_BROKERS: testBrokers().join(','),
      ORDERSTREAM_TOPIC_PREFIX: prefix,
      ORDERSTREAM_RAW_PARTITIONS: '3',
      ORDERSTREAM_ORDER_PARTITIONS: '3',
      ORDERSTREAM_SESSION_TIMEOUT_MS: '6000',
      NORMALIZER_GROUP_ID: uniqueName('normalizer'),
      ORDER_STATE_GROUP_ID: uniqueName('order-state'),
      ORDER_STATE_HTTP_PORT: '0',
      LOG_LEVEL: 'trace',
      COLLECTOR_ACCOUNTS_FILE: accountsFile,
      COLLECTOR_SPOOL_DIR: join(dir, 'spool'),
      XT_REFUSED_SECRET: SECRET.xtWrongSecret,
      WEBSEA_TOKEN: SECRET.webseaToken,
      WEBSEA_SECRET: SECRET.webseaSecret,
      LOOPRING_API_KEY: SECRET.loopringKey,
      BN_API_KEY: SECRET.bnKey,
      BN_API_SECRET: SECRET.bnSecret,
      BN_ED25519_PEM: edPrivatePem,
    };
    services = (['normalizer', 'order-state', 'collector'] as const).map((name) => new ServiceProcess(name, env, join(dir, `${name}.log`)));
    for (const s of services) s.start();
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await Promise.all([xt?.stop(), websea?.stop(), loopring?.stop(), bsx?.stop(), binance?.stop()]);
  });

  const log = (name: string) => {
    try {
      return readFileSync(join(dir, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  };

  async function queryApiUrl(): Promise<string> {
    return waitFor(() => /"msg":"query api listening"/.test(log('order-state')) && (/"url":"(http:\/\/[^"]+)"/.exec(log('order-state'))?.[1] ?? false), {
      timeoutMs: 60_000, intervalMs: 200, description: 'order-state to log its query API URL',
    });
  }

  it('refuses credentials in URLs at start (file and environment), naming them without their values', () => {
    const file = join(dir, 'url-accounts.json');
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [
          { venue: 'xt', account: 'a', config: { restUrl: 'http://127.0.0.1:1', wsUrl: `ws://${SECRET.urlUser}:${SECRET.urlPassword}@127.0.0.1:1/ws/user`, apiKey: SECRET.xtKey, apiSecret: SECRET.xtSecret } },
          { venue: 'bsx', account: 'b', config: { wsUrl: 'ws://127.0.0.1:1', restUrl: { env: 'BSX_REST_URL' }, apiKey: SECRET.bsxKey, apiSecret: SECRET.bsxSecret, pingIntervalMs: -1 } },
        ],
      }),
    );
    const r = spawnSync(process.execPath, [ServiceProcess.mainOf('collector')], {
      env: { PATH: process.env.PATH ?? '', ...env, LOG_LEVEL: 'trace', COLLECTOR_ACCOUNTS_FILE: file, BSX_REST_URL: `https://u:${SECRET.urlEnvPassword}@127.0.0.1:1` },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/accounts\[0\]\.config\.wsUrl: must not carry credentials in the URL/);
    expect(r.stderr).toMatch(/accounts\[1\]\.config\.restUrl: must not carry credentials in the URL/);
    expect(r.stderr).toMatch(/accounts\[1\]\.config\.pingIntervalMs/);
    expect(leaksIn(r.stderr + r.stdout)).toEqual([]);
  }, 60_000);

  it('nothing the pipeline writes, logs or serves holds a secret', async () => {
    const apiUrl = await queryApiUrl();
    await Promise.all([xt.waitForSubscribers(1, 30_000), websea.waitForSubscribers(1, 30_000), loopring.waitForSubscribers(1, 30_000), bsx.waitForSubscribers(1, 30_000), binance.waitForConnections(2, 30_000)]);

    // Binance's orders are polled once asked for on orders.track.v1
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.track,
      messages: script.map((l) => ({ key: `binance-usdm|futures|${l.symbol}|${l.orderId}`, value: JSON.stringify({ venue: 'binance-usdm', account: 'futures', symbol: l.symbol, orderId: l.orderId }) })),
    });
    await producer.disconnect();
    await Promise.all([
      xt.play(xt.randomLifecycles(LIFECYCLES, 42), { intervalMs: 5 }),
      websea.play(websea.randomLifecycles(LIFECYCLES, 43), { intervalMs: 5 }),
      loopring.play(loopring.randomLifecycles(LIFECYCLES, 44), { intervalMs: 5 }),
      bsx.play(bsx.randomLifecycles(LIFECYCLES, 45), { intervalMs: 5 }),
      binance.play(script, { intervalMs: 20 }),
    ]);
    xt.injectMalformed('invalid-json'); // a dead letter, with the raw frame's headers

    // Everything has flowed: every venue's orders in the state, a dead letter, REST requests and refused-auth events.
    const total = 5 * LIFECYCLES;
    await waitFor(async () => {
      const body = (await (await fetch(`${apiUrl}/orders?limit=1000`)).json()) as { total: number };
      return body.total >= total;
    }, { timeoutMs: 90_000, intervalMs: 500, description: `order-state to hold ${total} orders` });
    const raw = await waitFor(async () => {
      const records = await readTopicToEnd(kafka, topics.raw);
      const kind = (r: InRecord, k: string) => r.headers['frame-kind']?.toString() === k;
      const refused = records.some((r) => kind(r, 'session') && r.headers.account?.toString() === 'refused' && /"error"/.test(r.value?.toString() ?? ''));
      return records.some((r) => kind(r, 'rest')) && refused ? records : false;
    }, { timeoutMs: 60_000, intervalMs: 1_000, description: 'raw REST records and session error events of the refused account' });
    const dlq = await waitFor(async () => {
      const records = await readTopicToEnd(kafka, topics.dlq);
      return records.length > 0 ? records : false;
    }, { timeoutMs: 30_000, intervalMs: 500, description: 'the malformed frame on orders.dlq.v1' });
    const canonical = await readTopicToEnd(kafka, topics.canonical);
    const state = await readTopicToEnd(kafka, topics.state);
    const orders = await (await fetch(`${apiUrl}/orders?limit=1000`)).text();
    const metrics = await (await fetch(`${apiUrl}/metrics`)).text();

    // The one-time Loopring keys are secrets too (they open the account's socket).
    const oneTimeKeys = loopring.issuedWsKeys();
    expect(oneTimeKeys.length).toBeGreaterThan(0);

    const places: [string, string][] = [
      ...(['collector', 'normalizer', 'order-state'] as const).map((n): [string, string] => [`${n} stdout/stderr`, log(n)]),
      ...raw.map((r): [string, string] => [`${topics.raw} @${r.partition}:${r.offset} (${String(r.headers['frame-kind'])})`, recordText(r)]),
      ...dlq.map((r): [string, string] => [`${topics.dlq} @${r.partition}:${r.offset}`, recordText(r)]),
      ...canonical.map((r): [string, string] => [`${topics.canonical} @${r.partition}:${r.offset}`, recordText(r)]),
      ...state.map((r): [string, string] => [`${topics.state} @${r.partition}:${r.offset}`, recordText(r)]),
      ['GET /orders', orders],
      ['GET /metrics', metrics],
    ];
    // the checks are not vacuous: debug lines (ours and kafkajs'), REST requests, auth errors and dead letters
    for (const n of ['collector', 'normalizer', 'order-state']) expect(log(n)).toMatch(/"level":20,.*"component":"kafkajs"/);
    expect(log('collector')).toMatch(/"level":20,"time":\d+,"pid":\d+,"name":"collector","venue"/);
    expect(raw.some((r) => r.headers['rest-request'] !== undefined)).toBe(true);
    expect(dlq[0]?.headers['dlq-code']?.toString()).toBe('FRAME_NOT_JSON');
    expect(canonical.length).toBeGreaterThanOrEqual(total);
    // and the matcher finds a secret where there is one
    expect(leaksIn(readFileSync(env.COLLECTOR_ACCOUNTS_FILE as string, 'utf8'))).toContain(SECRET.xtSecret);

    const leaks = places.flatMap(([where, text]) => leaksIn(text, oneTimeKeys).map((secret) => `${secret} in ${where}`));
    expect(leaks).toEqual([]);
  }, 240_000);
});
