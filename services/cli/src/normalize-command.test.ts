import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inputLines, normalizeCommand } from './normalize-command.js';

const ORDER = '{"topic":"order","event":"order@k","data":{"symbol":"btc_usdt","orderId":"7","origQty":"1","avgPrice":"0","price":"1","executedQty":"0","orderSide":"BUY","state":"NEW","createdTime":1731231231456}}';

async function answers(chunks: (string | Buffer)[]): Promise<unknown[]> {
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString('utf8')));
  await normalizeCommand({ venue: 'xt', input: Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))), output });
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
}

async function lines(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const l of inputLines(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(l);
  return out;
}

describe('orderstream normalize: exactly one answer line per input line', () => {
  it('answers a blank line with skipped, in its place', async () => {
    const out = await answers([`${ORDER}\n\n   \npong\n`]);
    expect(out).toHaveLength(4);
    expect(out[0]).toMatchObject({ orders: [{ orderId: '7' }] });
    expect(out.slice(1)).toEqual([{ skipped: 'blank line' }, { skipped: 'blank line' }, { skipped: 'pong' }]);
  });

  it('a bare CR is part of the line (one answer), CRLF is one line break', async () => {
    const out = await answers([`pong\rpong\n${ORDER}\r\n\r\n`]);
    expect(out).toEqual([
      { dlq: { code: 'FRAME_NOT_JSON', message: expect.any(String) as string } },
      { orders: [expect.objectContaining({ orderId: '7' })] },
      { skipped: 'blank line' },
    ]);
  });

  it('answers a hostile frame with one escaped line', async () => {
    const out = await answers([`${ORDER.replace('"7"', '"7|8"')}\n`]);
    expect(out).toEqual([{ dlq: { code: 'FRAME_ID_INVALID', message: expect.stringContaining('orderId') as string } }]);
  });
});

describe('inputLines: split on LF only', () => {
  it.each<[string, string[], string[]]>([
    ['LF', ['a\nb\n'], ['a', 'b']],
    ['no LF at the end: still a line', ['a\nb'], ['a', 'b']],
    ['CRLF: one CR dropped', ['a\r\nb\r\n'], ['a', 'b']],
    ['CRCRLF: only one CR dropped', ['a\r\r\n'], ['a\r']],
    ['a bare CR does not split', ['a\rb\n'], ['a\rb']],
    ['empty lines are lines', ['\n\n'], ['', '']],
    ['empty input: no line', [''], []],
    ['a line across chunks, CR and LF in different chunks', ['ab', 'c\r', '\nd'], ['abc', 'd']],
  ])('%s', async (_what, chunks, expected) => {
    expect(await lines(chunks)).toEqual(expected);
  });

  it('decodes a multi-byte character split between two chunks', async () => {
    const bytes = Buffer.from('€\n');
    const out: string[] = [];
    for await (const l of inputLines(Readable.from([bytes.subarray(0, 1), bytes.subarray(1)]))) out.push(l);
    expect(out).toEqual(['€']);
  });
});
