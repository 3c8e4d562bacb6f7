import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { canConnect } from '../broker/ports.js';
import { testSchemaRegistryUrl } from '../vitest.js';

/** Listening TCP sockets of a process, as `address:port` (Linux /proc; IPv4 and IPv6 tables). */
function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9] as string)) continue; // 0A = LISTEN
      const [addr, port] = (f[1] as string).split(':') as [string, string];
      out.push(`${addr}:${parseInt(port, 16)}`);
    }
  }
  return out;
}

/** The pid listening on a loopback port, from /proc (Linux). */
function pidListeningOn(port: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (listeningSockets(Number(name)).some((s) => s.endsWith(`:${port}`))) return Number(name);
    } catch {
      // not ours to read, or gone
    }
  }
  return undefined;
}

const LOOPBACK_V4 = '0100007F'; // 127.0.0.1 in /proc/net/tcp
const LOOPBACK_MAPPED = '0000000000000000FFFF00000100007F'; // ::ffff:127.0.0.1 in /proc/net/tcp6

describe('the shared schema registry from global-setup.ts', () => {
  it('answers the Confluent-compatible API and listens on loopback only', async () => {
    const url = new URL(testSchemaRegistryUrl());
    const res = await fetch(`${url.href.replace(/\/$/, '')}/subjects`);
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
    if (url.hostname !== '127.0.0.1' || process.platform !== 'linux') return; // an external registry: not ours to check
    const pid = pidListeningOn(Number(url.port));
    expect(pid, `a process listening on port ${url.port}`).toBeDefined();
    const sockets = listeningSockets(pid as number);
    expect(sockets.length).toBeGreaterThan(0);
    for (const s of sockets) expect([LOOPBACK_V4, LOOPBACK_MAPPED], `registry socket ${s}`).toContain(s.split(':')[0]);
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4');
    if (external) expect(await canConnect(Number(url.port), external.address)).toBe(false);
  });
});
