import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { applyFaults, checkFaultKnobs, NO_FAULTS } from './faults.js';
import { seededRng } from './random.js';
import { SimServer, type SimHttpRequest, type SimHttpResponse, type SimSocket } from './server.js';

describe('seededRng', () => {
  it('is deterministic per seed and stays in range', () => {
    const a = seededRng(9);
    const b = seededRng(9);
    const xs = Array.from({ length: 100 }, () => a.int(3, 7));
    expect(xs).toEqual(Array.from({ length: 100 }, () => b.int(3, 7)));
    expect(Math.min(...xs)).toBe(3);
    expect(Math.max(...xs)).toBe(7);
    expect(seededRng(10).next()).not.toBe(seededRng(9).next());
  });
});

describe('applyFaults', () => {
  const frames = (keys: string) => [...keys].map((key, i) => ({ key, i }));

  it('changes nothing with no faults', () => {
    const f = frames('aabbc');
    expect(applyFaults(f, NO_FAULTS, seededRng(1)).map((x) => x.frame)).toEqual(f);
  });

  it('property: across-orders reordering keeps each key\'s frames in order and loses nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', 'c'), { maxLength: 40 }), fc.integer(), fc.double({ min: 0, max: 1, noNaN: true }), (keys, seed, rate) => {
        const f = keys.map((key, i) => ({ key, i }));
        const out = applyFaults(f, { ...NO_FAULTS, reorder: rate, duplicateRate: rate / 2 }, seededRng(seed));
        const originals = out.filter((x) => !x.duplicate).map((x) => x.frame);
        expect([...originals].sort((x, y) => x.i - y.i)).toEqual(f);
        for (const k of ['a', 'b', 'c']) {
          const idx = originals.filter((x) => x.key === k).map((x) => x.i);
          expect(idx).toEqual([...idx].sort((x, y) => x - y));
        }
        out.forEach((x, j) => {
          if (x.duplicate) expect(out[j - 1]?.frame).toBe(x.frame);
        });
      }),
    );
  });

  it('scope "any" may swap frames of the same order', () => {
    const out = applyFaults(frames('aaaa'), { ...NO_FAULTS, reorder: 1, reorderScope: 'any' }, seededRng(1));
    expect(out.map((x) => x.frame.i)).toEqual([1, 0, 3, 2]);
  });

  it('rejects knobs out of range with the knob named', () => {
    expect(() => checkFaultKnobs({ ...NO_FAULTS, duplicateRate: 2 })).toThrow(/duplicateRate must be between 0 and 1/);
    expect(() => checkFaultKnobs({ ...NO_FAULTS, delayMs: -1 })).toThrow(/delayMs/);
  });
});

class EchoSim extends SimServer {
  static async start(): Promise<EchoSim> {
    const s = new EchoSim({ wsPaths: ['/echo'] });
    await s.listen();
    return s;
  }
  get url(): string {
    return this.wsUrlFor('/echo');
  }
  protected onHttp(req: SimHttpRequest): SimHttpResponse {
    return { status: 200, body: JSON.stringify({ path: req.path, q: req.query.get('q') }) };
  }
  protected onConnection(_socket: SimSocket): void {}
  protected onText(socket: SimSocket, text: string): void {
    this.sendText(socket, text.toUpperCase());
  }
}

describe('SimServer', () => {
  it('serves HTTP and WebSocket on one 127.0.0.1 port, waits on conditions, stops cleanly', async () => {
    const sim = await EchoSim.start();
    try {
      expect(sim.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${sim.httpUrl}/x?q=1`);
      expect(await res.json()).toEqual({ path: '/x', q: '1' });
      const ws = new WebSocket(sim.url);
      const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
      await new Promise((r) => ws.once('open', r));
      await sim.waitUntil(() => sim.sockets.length === 1, 1_000, 'one socket');
      ws.send('hi');
      expect(await reply).toBe('HI');
      await expect(sim.waitUntil(() => false, 20, 'the impossible')).rejects.toThrow('timed out after 20 ms waiting for the impossible');
    } finally {
      await sim.stop();
    }
    expect(sim.sockets).toEqual([]);
  });
});
