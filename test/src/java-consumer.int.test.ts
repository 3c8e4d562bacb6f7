/**
 * A consumer in another language: the Java example (test/java, kafka-clients + Apache Avro, no project code) reads
 * orders.canonical.v1 and orders.state.v1 after an end-to-end run, in registry mode (Confluent wire format, schemas
 * from the real registry by id) and in single-object mode (.avsc files only). Every record must decode and the
 * latest state per key must equal, field by field, what order-state's query API reports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@orderstream/kit';
import {
  connectSchemaRegistry, createKafka, createSchemaRegistryClient, ensurePipelineTopics, orderSerdes, topicNames, type Kafka, type OrderSerdes,
} from '@orderstream/kafka';
import { SCHEMA_DIR } from '@orderstream/schemas';
import { mapperLookup, XtClient, xtClientConfigSchema, xtExpectedCanonical, XtSimulator } from '@orderstream/venues';
import { createCollectorApp, type CollectorApp } from '@orderstream/collector';
import { createNormalizerApp, type NormalizerApp } from '@orderstream/normalizer';
import { createOrderStateApp, createQueryServer, type OrderStateApp, type QueryServer } from '@orderstream/order-state';
import { repoRoot, uniqueName, waitFor } from '@orderstream/testing';
import { testBrokers, testSchemaRegistryUrl } from '@orderstream/testing/vitest';

const JAVA_DIR = path.join(repoRoot(), 'test', 'java');
const SOURCE = path.join(JAVA_DIR, 'src', 'main', 'java', 'dev', 'orderstream', 'example', 'OrderstreamConsumer.java');
const CLASSES = path.join(JAVA_DIR, 'target', 'classes');
const LIB = path.join(JAVA_DIR, 'target', 'lib');
const CLASS_FILE = path.join(CLASSES, 'dev', 'orderstream', 'example', 'OrderstreamConsumer.class');

/** Jars by Maven (once; npm test's bootstrap already did it), classes by javac when the source is newer. */
function ensureJavaConsumer(): void {
  if (!existsSync(path.join(LIB, `kafka-clients-3.9.2.jar`))) {
    const mvn = spawnSync('mvn', ['-B', '-q', '-C', '-f', path.join(JAVA_DIR, 'pom.xml'), 'package'], { encoding: 'utf8', timeout: 600_000 });
    if (mvn.status !== 0) throw new Error(`mvn package of test/java failed: ${mvn.stdout}${mvn.stderr}`);
  }
  if (!existsSync(CLASS_FILE) || statSync(CLASS_FILE).mtimeMs < statSync(SOURCE).mtimeMs) {
    mkdirSync(CLASSES, { recursive: true });
    const javac = spawnSync('javac', ['-d', CLASSES, '-cp', `${LIB}/*`, SOURCE], { encoding: 'utf8', timeout: 120_000 });
    if (javac.status !== 0) throw new Error(`javac failed: ${javac.stderr}`);
  }
}

interface JavaSummary {
  canonical: { records: number; tombstones: number; decoded: number; confluent: number; singleObject: number; markers: number; failures: number };
  state: { records: number; tombstones: number; decoded: number; confluent: number; singleObject: number; markers: number; failures: number };
  keys: number;
  apiOrders: number;
  compared: number;
  problems: string[];
}

/**
 * Runs the Java consumer as a child process, asynchronously: the query API it calls is served by this very process,
 * so its event loop must keep running meanwhile.
 */
function runJava(args: string[]): Promise<{ status: number | null; summary: JavaSummary | undefined; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('java', ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${CLASSES}:${LIB}/*`, 'dev.orderstream.example.OrderstreamConsumer', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      resolve({ status, summary: line.startsWith('{') ? (JSON.parse(line) as JavaSummary) : undefined, stderr, ms: Date.now() - started });
    });
  });
}

interface Stack {
  prefix: string;
  sim: XtSimulator;
  collector: CollectorApp;
  normalizer: NormalizerApp;
  orderState: OrderStateApp;
  api: QueryServer;
  apiUrl: string;
}

async function startStack(kafka: Kafka, serdes: OrderSerdes, prefix: string): Promise<Stack> {
  const logger = silentLogger();
  const topics = topicNames(prefix);
  const sim = await XtSimulator.start({ apiKey: 'java-key', apiSecret: 'java-secret' });
  const client = new XtClient(xtClientConfigSchema.parse({ restUrl: sim.restUrl, wsUrl: sim.wsUrl, apiKey: 'java-key', apiSecret: 'java-secret' }), { logger });
  const collector = createCollectorApp({ kafka, topics, accounts: [{ account: 'main', client }], decodeState: serdes.decodeState, logger, progressEveryMs: 0 });
  const normalizer = createNormalizerApp({ kafka, topics, groupId: uniqueName('normalizer'), lookup: mapperLookup, reference: sim.referenceData(), serde: serdes, logger, progressEveryMs: 0 });
  const orderState = createOrderStateApp({ kafka, topics, groupId: uniqueName('order-state'), serde: serdes, logger, progressEveryMs: 0 });
  // Only /orders is used here: no metrics.
  const api = createQueryServer({ store: orderState.store, isReady: orderState.isReady, isHealthy: orderState.isHealthy, metrics: () => '', logger }, { port: 0 });
  const apiUrl = (await api.start()).url.replace(/\/$/, '');
  await Promise.all([collector.start(), normalizer.start(), orderState.start()]);
  await sim.waitForSubscribers(1, 20_000);
  return { prefix, sim, collector, normalizer, orderState, api, apiUrl };
}

async function stopStack(s: Stack | undefined): Promise<void> {
  if (!s) return;
  await s.api.stop();
  await s.collector.stop();
  await Promise.all([s.normalizer.stop(), s.orderState.stop()]);
  await s.sim.stop();
}

/** Plays lifecycles and waits until order-state holds the simulator's truth. */
async function playAndSettle(s: Stack, count: number, seed: number): Promise<void> {
  await s.sim.play(s.sim.randomLifecycles(count, seed));
  const reference = s.sim.referenceData().xt ?? {};
  const expected = [...s.sim.truth().values()].map((t) => xtExpectedCanonical(t, 'main', reference[t.symbol]?.contractSize));
  expect(expected).toHaveLength(count);
  await waitFor(() => expected.every((e) => s.orderState.store.get(e.orderKey)?.order.status === e.status && s.orderState.store.get(e.orderKey)?.order.filledQuantity === e.filledQuantity), {
    timeoutMs: 60_000, intervalMs: 200, description: 'order-state to hold the simulator truth',
  });
}

describe('Java consumer (kafka-clients + Apache Avro) in both modes', () => {
  let kafka: Kafka;
  const stacks: Stack[] = [];

  const prefixes = { registry: `${uniqueName('java-registry')}.`, 'single-object': `${uniqueName('java-single')}.` };

  beforeAll(async () => {
    ensureJavaConsumer();
    kafka = createKafka({ brokers: testBrokers(), clientId: 'e2e-java', logger: silentLogger() });
    // Both modes' topics up front, so their leaders are elected long before the second run uses them.
    for (const prefix of Object.values(prefixes)) await ensurePipelineTopics(kafka, { prefix, rawPartitions: 2, orderPartitions: 3, profile: 'test' });
  }, 600_000);

  afterAll(async () => {
    for (const s of stacks) await stopStack(s);
  });

  for (const mode of ['registry', 'single-object'] as const) {
    it(`${mode} mode: every record decodes and the latest state per key equals the query API`, async () => {
      const prefix = prefixes[mode];
      const serdes = mode === 'registry'
        ? await connectSchemaRegistry({ client: createSchemaRegistryClient({ url: testSchemaRegistryUrl() }), topics: topicNames(prefix) })
        : orderSerdes();
      const stack = await startStack(kafka, serdes, prefix);
      stacks.push(stack);
      await playAndSettle(stack, 30, mode === 'registry' ? 7 : 8);

      const args = ['--brokers', testBrokers().join(','), '--schemas', SCHEMA_DIR, '--prefix', prefix, '--api', stack.apiUrl,
        ...(mode === 'registry' ? ['--registry', testSchemaRegistryUrl()] : [])];
      // The state topic's last transactions' markers land just after commit: retry until the Java view agrees.
      const run = await waitFor(async () => {
        const r = await runJava(args);
        return r.status === 0 && r;
      }, { timeoutMs: 60_000, intervalMs: 500, description: `the Java consumer to agree with the query API (${mode})` }).catch(() => runJava(args));
      process.stderr.write(`java consumer (${mode}): ${run.ms} ms\n`);
      expect(run.summary, run.stderr).toBeDefined();
      const s = run.summary!;
      expect(s.problems).toStrictEqual([]);
      expect(run.status).toBe(0);
      for (const t of [s.canonical, s.state]) {
        expect(t.failures).toBe(0);
        expect(t.decoded).toBe(t.records - t.tombstones);
        expect(t.decoded).toBeGreaterThan(0);
        if (mode === 'registry') expect(t.singleObject).toBe(0);
        else expect(t.confluent).toBe(0);
      }
      expect(s.keys).toBe(30);
      expect(s.apiOrders).toBe(30);
      expect(s.compared).toBe(30);
    }, 240_000);
  }
});
