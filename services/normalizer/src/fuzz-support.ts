/**
 * Test support (fuzz.test.ts, bad-frames.test.ts): every venue's recorded and constructed frames, read straight from
 * `libs/venues/src/<venue>/fixtures/*.jsonl` whatever each venue's own fixture reader looks like, with the REST
 * request each REST answer came with turned into the `MapContext.rest` the normalizer would give its mapper.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  LOOPRING_SIM_MARKETS,
  XT_SIM_INSTRUMENTS,
  parseRestRequest,
  type MapContext,
  type ReferenceData,
  type RestContext,
  type VenueId,
} from '@orderstream/venues';

export interface CorpusFrame {
  venue: VenueId;
  /** `<file>:<name>` */
  name: string;
  text: string;
  /** set for REST answers: the call they answer */
  rest?: RestContext;
}

const VENUES_DIR = fileURLToPath(new URL('../../../libs/venues/src/', import.meta.url));

/** Reference data covering the simulators' instruments (so XT and Loopring fill their base-unit figures). */
export const CORPUS_REFERENCE: ReferenceData = {
  xt: Object.fromEntries(XT_SIM_INSTRUMENTS.map((i) => [i.symbol, { contractSize: i.contractSize }])),
  loopring: Object.fromEntries(LOOPRING_SIM_MARKETS.map((m) => [m.market, { baseDecimals: m.baseDecimals, quoteDecimals: m.quoteDecimals }])),
};

type Raw = Record<string, unknown>;

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function params(v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v as Raw).map(([k, x]) => [k, String(x)]));
}

/** The REST call a fixture line says its body answers, in any of the venues' fixture shapes; undefined for pushes. */
export function restOfFixture(f: Raw): RestContext | undefined {
  const status = typeof f.status === 'number' ? f.status : 200;
  if (typeof f.request === 'string') return { ...parseRestRequest(f.request), status };
  const r = (f.request ?? f.rest) as Raw | undefined;
  if (r && typeof r === 'object' && typeof r.path === 'string') {
    return { method: str(r.method) ?? 'GET', path: r.path, params: params(r.params), status: typeof r.status === 'number' ? r.status : status };
  }
  if (typeof f.path === 'string') return { method: str(f.method) ?? 'GET', path: f.path, params: params(f.params), status };
  return undefined;
}

/** Every fixture frame of `venue` (every .jsonl file of its fixtures folder). */
export function venueCorpus(venue: VenueId): CorpusFrame[] {
  const dir = `${VENUES_DIR}${venue}/fixtures/`;
  const out: CorpusFrame[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(dir + file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const f = JSON.parse(line) as Raw;
      if (typeof f.text !== 'string') continue;
      const rest = restOfFixture(f);
      out.push({ venue, name: `${file}:${String(f.name)}`, text: f.text, ...(rest ? { rest } : {}) });
    }
  }
  return out;
}

/** The map context the normalizer builds for a frame of `venue` (account `fuzz`), with `rest` when given. */
export function contextFor(venue: VenueId, rest?: RestContext, reference: ReferenceData = CORPUS_REFERENCE): MapContext {
  return {
    venue,
    account: 'fuzz',
    receivedAt: 1_795_000_000_000_000,
    source: { topic: 'orders.raw.v1', partition: 0, offset: 1 },
    reference,
    ...(rest ? { rest } : {}),
  };
}
