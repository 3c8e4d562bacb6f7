import type { IHeaders } from 'kafkajs';
import { FrameError } from '@orderstream/kit';

/** Provenance headers of every orders.raw.v1 record (DESIGN.md decision 2). */
export interface RawHeaders {
  venue: string;
  account: string;
  apiVersion: string;
  connId: string;
  connSeq: number;
  /** epoch nanoseconds as a decimal string */
  receivedAt: string;
  frameKind: 'data' | 'session' | 'rest';
  /** rest frames: the request the body answers (`GET /path?non-secret=params`), never a secret */
  restRequest?: string;
  /** rest frames: the answer's HTTP status */
  restStatus?: number;
}

const NAMES = {
  venue: 'venue',
  account: 'account',
  apiVersion: 'api-version',
  connId: 'conn-id',
  connSeq: 'conn-seq',
  receivedAt: 'received-at',
  frameKind: 'frame-kind',
} as const;

const REST_REQUEST = 'rest-request';
const REST_STATUS = 'rest-status';

export function encodeRawHeaders(h: RawHeaders): IHeaders {
  return {
    [NAMES.venue]: h.venue,
    [NAMES.account]: h.account,
    [NAMES.apiVersion]: h.apiVersion,
    [NAMES.connId]: h.connId,
    [NAMES.connSeq]: String(h.connSeq),
    [NAMES.receivedAt]: h.receivedAt,
    [NAMES.frameKind]: h.frameKind,
    ...(h.restRequest !== undefined ? { [REST_REQUEST]: h.restRequest } : {}),
    ...(h.restStatus !== undefined ? { [REST_STATUS]: String(h.restStatus) } : {}),
  };
}

/** A header's value as a string (kafkajs hands consumers Buffers). */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined || v === null) return undefined;
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

/** Reads the provenance headers back; a missing or malformed one is a FrameError (→ dead-letter topic). */
export function decodeRawHeaders(headers: IHeaders | undefined): RawHeaders {
  const get = (k: keyof typeof NAMES) => headerString(headers, NAMES[k]);
  const missing = (Object.keys(NAMES) as (keyof typeof NAMES)[]).filter((k) => get(k) === undefined).map((k) => NAMES[k]);
  if (missing.length > 0) {
    throw new FrameError('RAW_HEADERS_MISSING', `raw record lacks header(s): ${missing.join(', ')}`);
  }
  const frameKind = get('frameKind');
  if (frameKind !== 'data' && frameKind !== 'session' && frameKind !== 'rest') {
    throw new FrameError('RAW_HEADERS_MISSING', `raw record has frame-kind ${JSON.stringify(frameKind)}, expected data, session or rest`);
  }
  let rest: Pick<RawHeaders, 'restRequest' | 'restStatus'> = {};
  if (frameKind === 'rest') {
    const restRequest = headerString(headers, REST_REQUEST);
    const status = headerString(headers, REST_STATUS);
    if (restRequest === undefined || status === undefined || !/^\d{3}$/.test(status)) {
      throw new FrameError('RAW_HEADERS_MISSING', `rest record needs headers ${REST_REQUEST} and ${REST_STATUS} (a 3-digit HTTP status)`);
    }
    rest = { restRequest, restStatus: Number(status) };
  }
  const receivedAt = get('receivedAt') as string;
  if (!/^\d+$/.test(receivedAt)) {
    throw new FrameError('RAW_HEADERS_MISSING', `raw record has received-at ${JSON.stringify(receivedAt)}, expected epoch nanoseconds`);
  }
  return {
    venue: get('venue') as string,
    account: get('account') as string,
    apiVersion: get('apiVersion') as string,
    connId: get('connId') as string,
    connSeq: Number(get('connSeq')),
    receivedAt,
    frameKind,
    ...rest,
  };
}

/** Kafka key of a raw record: one account's frames stay in order in one partition. */
export function rawKey(venue: string, account: string): string {
  return `${venue}|${account}`;
}
