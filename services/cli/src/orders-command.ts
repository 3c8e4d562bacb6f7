import { orderSerdes, readTopicToEnd } from '@orderstream/kafka';
import type { OrderState } from '@orderstream/schemas';
import { opsContext, ORDER_HEADER, orderRow, statusFilter, table, type OpsContext } from './ops.js';

export interface GetOptions {
  key: string | undefined;
  /** the query API's base URL (`--api`, or ORDERSTREAM_API_URL) */
  api?: string | undefined;
  json: boolean;
}

export interface OrdersOptions {
  venue?: string | undefined;
  account?: string | undefined;
  status?: string | undefined;
  api?: string | undefined;
  json: boolean;
}

/** Where an answer came from: the query API, or orders.state.v1 read to its end. */
export type Origin = 'api' | 'topic';

/** Fetches JSON from the query API; undefined when no API answers at that URL (then the topic is read). */
async function fromApi<T>(url: string, note: (text: string) => void): Promise<{ status: number; body: T } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, body: (await res.json()) as T };
  } catch (error) {
    note(`query API at ${new URL(url).origin} did not answer (${(error as Error).name}); reading orders.state.v1 instead`);
    return undefined;
  }
}

/** Latest state per key of orders.state.v1 (tombstones remove). */
async function stateFromTopic(ctx: OpsContext): Promise<Map<string, OrderState>> {
  const serdes = (await ctx.schemaRegistry?.('reader')) ?? orderSerdes(); // both encodings (registry mode)
  const latest = new Map<string, OrderState>();
  const records = await readTopicToEnd(ctx.kafka, ctx.topics.state);
  await serdes.prefetch(records.map((r) => r.value));
  for (const r of records) {
    const key = r.key?.toString('utf8') ?? '';
    if (r.value === null) latest.delete(key);
    else latest.set(key, serdes.decodeState(r.value));
  }
  return latest;
}

function apiUrl(options: { api?: string | undefined }, env: NodeJS.ProcessEnv): string | undefined {
  return options.api ?? env.ORDERSTREAM_API_URL;
}

function show(states: OrderState[], json: boolean, origin: Origin, output: NodeJS.WritableStream, err: NodeJS.WritableStream): void {
  if (json) for (const s of states) output.write(`${JSON.stringify(s)}\n`);
  else {
    output.write(`${table(ORDER_HEADER, states.map(orderRow))}\n`);
    err.write(`${states.length} order(s), from ${origin === 'api' ? 'the query API' : 'orders.state.v1'}\n`);
  }
}

/**
 * `orderstream get <orderKey>`: one order's current state, from the query API when one answers, else from
 * orders.state.v1. Exit 0 when found, 1 when no order has that key.
 */
export async function getCommand(options: GetOptions, env: NodeJS.ProcessEnv = process.env, output: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr, ctx?: OpsContext): Promise<{ code: number; origin: Origin }> {
  if (!options.key) throw new RangeError('get needs an orderKey: venue|account|orderId');
  const api = apiUrl(options, env);
  let state: OrderState | undefined;
  let origin: Origin = 'topic';
  const answer = api ? await fromApi<OrderState>(`${api.replace(/\/$/, '')}/orders/${encodeURIComponent(options.key)}`, (t) => err.write(`${t}\n`)) : undefined;
  if (answer && (answer.status === 200 || answer.status === 404)) {
    origin = 'api';
    state = answer.status === 200 ? answer.body : undefined;
  } else {
    state = (await stateFromTopic(ctx ?? opsContext('get', env))).get(options.key);
  }
  if (!state) {
    err.write(`no order with key ${JSON.stringify(options.key)} (${origin === 'api' ? 'query API' : 'orders.state.v1'})\n`);
    return { code: 1, origin };
  }
  if (options.json) output.write(`${JSON.stringify(state)}\n`);
  else {
    const o = state.order as unknown as Record<string, unknown>;
    const rows = Object.entries(o).filter(([k]) => k !== 'extras' && k !== 'source').map(([k, v]) => [k, v === null ? '-' : String(v)]);
    rows.push(['extras', JSON.stringify(state.order.extras)], ['source', JSON.stringify(state.order.source)], ['updateCount', String(state.updateCount)]);
    if (state.note) rows.push(['note', state.note]);
    output.write(`${table(['field', 'value'], rows)}\n`);
  }
  return { code: 0, origin };
}

/**
 * `orderstream orders [--venue] [--account] [--status live|terminal|<s>]`: the matching orders, from the query
 * API (every page) when one answers, else from orders.state.v1.
 */
export async function ordersCommand(options: OrdersOptions, env: NodeJS.ProcessEnv = process.env, output: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr, ctx?: OpsContext): Promise<{ code: number; origin: Origin; count: number }> {
  const matchStatus = statusFilter(options.status);
  const api = apiUrl(options, env);
  if (api) {
    const states: OrderState[] = [];
    let cursor: string | null = null;
    let reachable = true;
    do {
      const q = new URLSearchParams({ limit: '1000' });
      if (options.venue) q.set('venue', options.venue);
      if (options.account) q.set('account', options.account);
      if (options.status) q.set('status', options.status);
      if (cursor) q.set('cursor', cursor);
      const answer: { status: number; body: { orders: OrderState[]; nextCursor: string | null; message?: string } } | undefined = await fromApi(`${api.replace(/\/$/, '')}/orders?${q}`, (t) => err.write(`${t}\n`));
      if (!answer) {
        reachable = false;
        break;
      }
      if (answer.status !== 200) throw new RangeError(`query API answered ${answer.status}: ${answer.body.message ?? ''}`);
      states.push(...answer.body.orders);
      cursor = answer.body.nextCursor;
    } while (cursor);
    if (reachable) {
      show(states, options.json, 'api', output, err);
      return { code: 0, origin: 'api', count: states.length };
    }
  }
  const all = await stateFromTopic(ctx ?? opsContext('orders', env));
  const states = [...all.values()]
    .filter((s) => (!options.venue || s.order.venue === options.venue) && (!options.account || s.order.account === options.account) && (!matchStatus || matchStatus(s.order.status)))
    .sort((a, b) => (a.order.orderKey < b.order.orderKey ? -1 : a.order.orderKey > b.order.orderKey ? 1 : 0));
  show(states, options.json, 'topic', output, err);
  return { code: 0, origin: 'topic', count: states.length };
}
