import { createLogger } from '@orderstream/kit';
import type { TestProject } from 'vitest/node';
import { startBroker } from './broker/start.js';
import type {} from './vitest.js'; // the ProvidedContext augmentation ('kafkaBrokers'); type-only, erased at runtime

/**
 * vitest globalSetup: one Kafka broker for the whole test run (KAFKA_BROKERS, else Docker, else a local JVM),
 * handed to tests as `inject('kafkaBrokers')` / `testBrokers()`, stopped after the last test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger({ name: 'test-broker', level: 'info' });
  const broker = await startBroker({ logger });
  project.provide('kafkaBrokers', broker.brokers);
  return async () => {
    await broker.stop();
  };
}
