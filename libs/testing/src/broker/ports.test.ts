import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@orderstream/kit';
import { startLocalBroker } from './local.js';
import { canConnect, findFreePort, isPortFree } from './ports.js';

describe('a taken port', () => {
  let server: net.Server;
  let taken: number;

  beforeAll(async () => {
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    taken = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is seen as taken, and a free port as free', async () => {
    expect(await isPortFree(taken)).toBe(false);
    expect(await canConnect(taken)).toBe(true);
    const free = await findFreePort();
    expect(await isPortFree(free)).toBe(true);
  });

  it('makes startLocalBroker fail fast with BROKER_PORT_IN_USE naming the port and how to choose another', async () => {
    const started = Date.now();
    const error = await startLocalBroker({ port: taken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('BROKER_PORT_IN_USE');
    expect((error as AppError).message).toContain(`port ${taken}`);
    expect((error as AppError).message).toMatch(/choose another port/);
    expect((error as AppError).details.port).toBe(taken);
    // Before any Maven run or JVM launch.
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('also applies to the controller port', async () => {
    const error = await startLocalBroker({ controllerPort: taken }).catch((e: unknown) => e);
    expect((error as AppError).code).toBe('BROKER_PORT_IN_USE');
    expect((error as AppError).message).toMatch(/CONTROLLER listener/);
  });

  it('rejects equal client and controller ports and out-of-range ports', async () => {
    await expect(startLocalBroker({ port: 40000, controllerPort: 40000 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(startLocalBroker({ port: 70000 })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
