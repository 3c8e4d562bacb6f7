import net from 'node:net';
import { AppError, KafkaError } from '@orderstream/kit';

/** The only interface the local broker binds to. `127.0.0.1`, not `localhost`: Node may resolve that to ::1. */
export const LOOPBACK = '127.0.0.1';

/** A TCP port that is free on 127.0.0.1 right now (the OS picks it). */
export function findFreePort(host: string = LOOPBACK): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the port the OS picked'));
      });
    });
  });
}

/** Whether something may bind `host:port` now: false when the port is taken (EADDRINUSE). */
export function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Fails fast with KafkaError BROKER_PORT_IN_USE when `port` is taken on 127.0.0.1, naming the port, what it was for
 * and how to pick another. (A listener on 0.0.0.0 or [::], such as Docker's port proxy, also counts as taken.)
 */
export async function assertPortFree(port: number, role: string): Promise<void> {
  validatePort(port, role);
  let free: boolean;
  try {
    free = await isPortFree(port);
  } catch (error) {
    throw new KafkaError('BROKER_START_FAILED', `cannot bind ${LOOPBACK}:${port} for the ${role}: ${String(error)}`, {
      cause: error,
    });
  }
  if (!free) {
    throw new KafkaError(
      'BROKER_PORT_IN_USE',
      `port ${port} on ${LOOPBACK} (wanted for the Kafka ${role}) is already in use, perhaps by another Kafka ` +
        `(a Docker container or an earlier broker). Stop that process (e.g. \`lsof -i :${port}\` or ` +
        `\`ss -ltnp 'sport = :${port}'\` shows who holds it), or choose another port: pass a different port ` +
        '(0 picks a free one), or set KAFKA_BROKERS=host:port to use the broker that is already running.',
      { details: { port, role } },
    );
  }
}

export function validatePort(port: number, role: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new AppError('CONFIG_INVALID', `invalid port for the Kafka ${role}: ${port} (want an integer 0-65535)`);
  }
}

/** Whether a TCP connection to `host:port` succeeds within `timeoutMs`. The connection is closed at once. */
export function canConnect(port: number, host: string = LOOPBACK, timeoutMs = 1_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
