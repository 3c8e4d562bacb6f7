import { createLogger } from '@orderstream/kit';
import type { TestProject } from 'vitest/node';
import { startBroker } from './broker/start.js';
import { startSchemaRegistry } from './registry/registry.js';
import type {} from './vitest.js'; // the ProvidedContext augmentation ('kafkaBrokers'); type-only, erased at runtime

/**
 * vitest globalSetup: one Kafka broker for the whole test run (KAFKA_BROKERS, else Docker, else a local JVM),
 * handed to tests as `inject('kafkaBrokers')` / `testBrokers()`, stopped after the last test file.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const logger = createLogger({ name: 'test-broker', level: 'info' });
  // Both JVMs start at once; the registry (Apicurio, ORDERSTREAM_SCHEMA_REGISTRY_URL if set) serves registry-mode tests.
  const [broker, registry] = await Promise.all([
    startBroker({ logger }),
    startSchemaRegistry({ logger: createLogger({ name: 'test-registry', level: 'info' }) }),
  ]);
  project.provide('kafkaBrokers', broker.brokers);
  project.provide('schemaRegistryUrl', registry.url);
  return async () => {
    await Promise.all([broker.stop(), registry.stop()]);
  };
}
