import { inject } from 'vitest';

/**
 * Test-side helpers. Kept out of index.ts so that importing `@orderstream/testing` from non-test code never
 * loads vitest.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap addresses of the one broker global-setup.ts started (or KAFKA_BROKERS). */
    kafkaBrokers: string[];
    /** Base URL of the Confluent-compatible API of the one schema registry global-setup.ts started. */
    schemaRegistryUrl: string;
  }
}

/**
 * The broker list for this test run, provided by libs/testing/src/global-setup.ts. Use a fresh topic and group per
 * test (`uniqueName`); the broker is shared by every test file.
 */
export function testBrokers(): string[] {
  const brokers = inject('kafkaBrokers');
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw new Error(
      "no Kafka broker was provided to this test: run it through the repo's vitest.config.ts, whose globalSetup " +
        '(libs/testing/src/global-setup.ts) starts one',
    );
  }
  return brokers;
}

/** ORDERSTREAM_SCHEMA_REGISTRY_URL for this test run (the local Apicurio registry, or the one the environment names). */
export function testSchemaRegistryUrl(): string {
  const url = inject('schemaRegistryUrl');
  if (typeof url !== 'string' || url === '') {
    throw new Error('no schema registry was provided to this test: run it through the repo\'s vitest.config.ts (global-setup.ts)');
  }
  return url;
}
