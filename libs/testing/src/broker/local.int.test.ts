import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessAlive, stopAllBrokers } from './lifecycle.js';
import { startLocalBroker } from './local.js';
import { canConnect } from './ports.js';
import { FIXED_CLUSTER_ID } from './settings.js';

/** The harness's own broker starts (the shared test broker comes from global-setup.ts): two in all. */
const dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'orderstream-local-test-')), 'kafka');
afterAll(async () => {
  await stopAllBrokers();
  rmSync(path.dirname(dataDir), { recursive: true, force: true });
});

function brokerEpoch(logFile: string): number {
  const matches = [...readFileSync(logFile, 'utf8').matchAll(/with broker epoch (\d+)/g)];
  const last = matches.at(-1)?.[1];
  if (last === undefined) throw new Error(`no broker registration in ${logFile}`);
  return Number(last);
}

describe('local JVM broker on a fixed data dir', () => {
  let firstEpoch = 0;

  it('starts, accepts TCP on 127.0.0.1, and stop() leaves no JVM behind', async () => {
    const broker = await startLocalBroker({ dataDir });
    expect(broker.kind).toBe('local');
    expect(broker.brokers).toEqual([`127.0.0.1:${broker.port}`]);
    expect(broker.formatted).toBe(true);
    expect(isProcessAlive(broker.pid)).toBe(true);
    expect(await canConnect(broker.port)).toBe(true);
    expect(readFileSync(path.join(dataDir, 'kraft-logs', 'meta.properties'), 'utf8')).toContain(
      `cluster.id=${FIXED_CLUSTER_ID}`,
    );
    expect(readFileSync(path.join(dataDir, 'broker.pid'), 'utf8').trim()).toBe(String(broker.pid));
    firstEpoch = brokerEpoch(broker.logFile);

    await broker.stop();
    expect(isProcessAlive(broker.pid)).toBe(false);
    expect(await canConnect(broker.port)).toBe(false);
    expect(existsSync(path.join(dataDir, 'broker.pid'))).toBe(false);
    expect(existsSync(dataDir)).toBe(true); // a given data dir is kept
    await broker.stop(); // idempotent
    expect(await broker.exited).toBeDefined();
  });

  it('reuses the formatted dir and its metadata log on a second start', async () => {
    const broker = await startLocalBroker({ dataDir });
    try {
      expect(broker.formatted).toBe(false);
      expect(await canConnect(broker.port)).toBe(true);
      // The metadata log of the first run was replayed: the broker registers with a later epoch.
      expect(brokerEpoch(broker.logFile)).toBeGreaterThan(firstEpoch);
      // The dir is locked by this broker: a third start names the pid instead of failing deep inside Kafka.
      await expect(startLocalBroker({ dataDir })).rejects.toMatchObject({
        code: 'BROKER_START_FAILED',
        message: expect.stringContaining(`pid ${broker.pid}`),
      });
    } finally {
      await broker.stop();
    }
    expect(isProcessAlive(broker.pid)).toBe(false);
  });
});

describe('a broker that cannot start', () => {
  it('fails with BROKER_START_FAILED quoting the JVM output, and removes its temp dir', async () => {
    const error = await startLocalBroker({ overrides: { 'num.io.threads': 'abc' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BROKER_START_FAILED' });
    const { message, details } = error as { message: string; details: { dataDir: string } };
    expect(message).toContain('Invalid value abc for configuration num.io.threads');
    expect(existsSync(details.dataDir)).toBe(false);
  });
});
