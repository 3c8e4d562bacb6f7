import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, Secret } from '@orderstream/kit';
import { createSchemaRegistryClient } from './registry-client.js';

/** A stand-in registry: answers by path, records what it was sent. */
describe('schema registry client', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; url: string; auth: string | undefined; body: string }> = [];
  const answer = new Map<string, [number, unknown]>();

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
        const [status, json] = answer.get(`${req.method} ${req.url}`) ?? [404, { error_code: 40401, message: 'Subject not found' }];
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apis/ccompat/v7`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends basic auth or a bearer token, and the schema with its type', async () => {
    answer.set('POST /apis/ccompat/v7/subjects/t-orderstream.v1.X/versions', [200, { id: 7 }]);
    const basic = createSchemaRegistryClient({ url: base, auth: { basic: new Secret('user:pa55') } });
    expect(await basic.register('t-orderstream.v1.X', '{"type":"string"}')).toBe(7);
    expect(seen.at(-1)?.auth).toBe(`Basic ${Buffer.from('user:pa55').toString('base64')}`);
    expect(JSON.parse(seen.at(-1)?.body ?? '{}')).toStrictEqual({ schema: '{"type":"string"}', schemaType: 'AVRO' });
    const bearer = createSchemaRegistryClient({ url: `${base}/`, auth: { bearer: new Secret('tok-123') } });
    expect(await bearer.register('t-orderstream.v1.X', '{"type":"string"}')).toBe(7);
    expect(seen.at(-1)?.auth).toBe('Bearer tok-123');
  });

  it('maps answers to errors: 401 refused (no secret in the message), 5xx and network errors unavailable, 404 lookups undefined', async () => {
    answer.set('GET /apis/ccompat/v7/schemas/ids/1', [401, { message: 'Unauthorized' }]);
    const c = createSchemaRegistryClient({ url: base, auth: { basic: new Secret('user:pa55') } });
    const refused = await c.schemaById(1).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('SCHEMA_REFUSED');
    expect((refused as AppError).message).not.toContain('pa55');

    answer.set('GET /apis/ccompat/v7/schemas/ids/2', [503, { message: 'starting' }]);
    const down = await c.schemaById(2).catch((e: unknown) => e);
    expect((down as AppError).code).toBe('SCHEMA_REGISTRY_UNAVAILABLE');
    expect((down as AppError).retriable).toBe(true);

    expect(await c.schemaById(3)).toBeUndefined();
    expect(await c.versions('nope')).toStrictEqual([]);
    expect(await c.lookup('nope', '"string"')).toBeUndefined();

    const dead = createSchemaRegistryClient({ url: 'http://127.0.0.1:9/x', timeoutMs: 1000 });
    const unreachable = await dead.versions('s').catch((e: unknown) => e);
    expect((unreachable as AppError).code).toBe('SCHEMA_REGISTRY_UNAVAILABLE');
  });

  it('reports a 409 with the registry\'s own words', async () => {
    answer.set('POST /apis/ccompat/v7/subjects/s/versions', [409, { error_code: 409, message: 'Incompatible artifact: extraField at /fields/5' }]);
    const e = await createSchemaRegistryClient({ url: base }).register('s', '"string"').catch((x: unknown) => x);
    expect((e as AppError).code).toBe('SCHEMA_REFUSED');
    expect((e as AppError).details.registryMessage).toBe('Incompatible artifact: extraField at /fields/5');
  });
});
