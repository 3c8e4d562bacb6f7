import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, errorMessage } from './errors.js';
import type { Logger } from './logger.js';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.js';

/**
 * The small HTTP server of a service without a query API (collector, normalizer): `GET /healthz`, `/readyz` and
 * `/metrics`, answered the same way as order-state's (docs/metrics.md). node:http only; GET only.
 */
export interface OpsServerDeps {
  /** the process works; else /healthz is 503 and a supervisor should restart it */
  isHealthy(): boolean;
  /** it does its job now (connected, consuming); else /readyz is 503 */
  isReady(): boolean;
  /** the Prometheus exposition text */
  metrics(): string;
  logger: Logger;
}

export interface OpsServerOptions {
  host?: string;
  /** 0 picks a free port */
  port: number;
  /** the variables to name when the port cannot be taken, e.g. `COLLECTOR_HTTP_HOST / COLLECTOR_HTTP_PORT` */
  configHint: string;
}

export interface OpsServer {
  start(): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

export function createOpsServer(deps: OpsServerDeps, options: OpsServerOptions): OpsServer {
  const host = options.host ?? '127.0.0.1';
  const logger = deps.logger.child({ component: 'ops-http' });
  let server: Server | undefined;

  const send = (res: import('node:http').ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  };
  const json = 'application/json; charset=utf-8';

  return {
    async start() {
      if (server) throw new Error('ops server already started');
      const s = createServer((req, res) => {
        req.resume();
        const path = (req.url ?? '/').split('?')[0];
        const known = path === '/healthz' || path === '/readyz' || path === '/metrics';
        try {
          if (!known) return send(res, 404, json, JSON.stringify({ error: 'NOT_FOUND', message: `no such path: ${path}` }));
          if (req.method !== 'GET') {
            res.setHeader('allow', 'GET');
            return send(res, 405, json, JSON.stringify({ error: 'METHOD_NOT_ALLOWED', message: `${req.method ?? '?'} is not allowed on ${path}; use GET` }));
          }
          if (path === '/healthz') return deps.isHealthy() ? send(res, 200, json, '{"status":"ok"}') : send(res, 503, json, '{"status":"unhealthy"}');
          if (path === '/readyz') return deps.isReady() ? send(res, 200, json, '{"status":"ready"}') : send(res, 503, json, '{"status":"not ready"}');
          return send(res, 200, PROMETHEUS_CONTENT_TYPE, deps.metrics());
        } catch (error) {
          logger.warn({ err: error, url: req.url }, `ops request failed: ${errorMessage(error)}`);
          if (!res.headersSent) send(res, 500, json, '{"error":"INTERNAL","message":"internal error"}');
          else res.destroy();
        }
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', (error: NodeJS.ErrnoException) =>
          reject(new AppError('HTTP_LISTEN_FAILED', `health/metrics server cannot listen on ${host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the port is already in use' : errorMessage(error)} (${error.code ?? 'error'}); set ${options.configHint}`, { cause: error })),
        );
        s.listen(options.port, host, () => resolve());
      });
      server = s;
      const { port } = s.address() as AddressInfo;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      logger.info({ url }, 'health and metrics listening');
      return { url, port };
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        s.closeIdleConnections();
      });
    },
  };
}
