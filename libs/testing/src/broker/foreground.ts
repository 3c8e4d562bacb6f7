import { KafkaError, createLogger, type Logger } from '@orderstream/kit';
import { startLocalBroker } from './local.js';
import { startLocalRegistry, type LocalSchemaRegistry } from '../registry/registry.js';
import { defaultForegroundDataDir } from './paths.js';
import type { BrokerExit } from './types.js';

export interface ForegroundOptions {
  /** Client port on 127.0.0.1. Default 9092; 0 picks a free one. */
  port?: number;
  /** CONTROLLER port. Default: a free one. */
  controllerPort?: number;
  /** Reused between runs. Default `<repo>/.local/kafka`. */
  dataDir?: string;
  heapMb?: number;
  logger?: Logger;
  /** Schema registry (Apicurio) port on 127.0.0.1. Default 8081; 0 picks a free one; false: no registry. */
  registryPort?: number | false;
  /** Where the human-readable lines go. Default stdout. */
  print?: (line: string) => void;
}

/**
 * For humans (`npm run broker`): starts the local broker on a reused data dir, prints where it listens, and runs
 * until Ctrl-C / SIGTERM, then stops it cleanly and resolves. A second Ctrl-C kills the JVM at once.
 * Rejects with BROKER_START_FAILED if the broker dies on its own.
 */
export async function runBrokerForeground(options: ForegroundOptions = {}): Promise<void> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger = options.logger ?? createLogger({ name: 'broker', level: 'info' });
  const registryStarting: Promise<LocalSchemaRegistry | undefined> =
    options.registryPort === false ? Promise.resolve(undefined) : startLocalRegistry({ port: options.registryPort ?? 8081, logger });
  registryStarting.catch(() => undefined);
  const broker = await startLocalBroker({
    port: options.port ?? 9092,
    controllerPort: options.controllerPort,
    dataDir: options.dataDir ?? defaultForegroundDataDir(),
    heapMb: options.heapMb,
    logger,
    keepProcessAlive: true,
  });
  print(`Kafka broker listening on ${broker.brokers.join(',')} (ready in ${broker.startupMs} ms)`);
  print(`  clients:   KAFKA_BROKERS=${broker.brokers.join(',')}`);
  print(`  data dir:  ${broker.dataDir}${broker.formatted ? ' (new)' : ' (reused)'}`);
  print(`  log:       ${broker.logFile}`);
  print(`  pid:       ${broker.pid}`);
  let registry: LocalSchemaRegistry | undefined;
  try {
    registry = await registryStarting;
  } catch (error) {
    await broker.stop();
    throw error;
  }
  if (registry) {
    print(`Schema registry (Apicurio, in memory) ready in ${registry.startupMs} ms:`);
    print(`  services:  ORDERSTREAM_SCHEMA_REGISTRY_URL=${registry.url}`);
  }
  print('Press Ctrl-C to stop.');

  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      print(`${name}: stopping the broker…`);
      void registry?.stop();
      void broker.stop();
    } else {
      print(`${name} again: killing the broker`);
      try {
        process.kill(broker.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const exit: BrokerExit = await broker.exited;
    await broker.stop();
    await registry?.stop();
    if (signals === 0) {
      throw new KafkaError(
        'BROKER_START_FAILED',
        `the Kafka broker exited on its own (${exit.signal ?? `code ${exit.code}`}); see ${broker.logFile}`,
        { details: { ...exit, logFile: broker.logFile } },
      );
    }
    print('Kafka broker stopped.');
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
