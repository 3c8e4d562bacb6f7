import { createLogger, parseConfig, type Logger } from '@orderstream/kit';
import { createKafka, kafkaEnvSchema, orderSerdesFromConfig, topicNames, type Kafka, type OrderSerdes, type TopicNames } from '@orderstream/kafka';
import { isTerminal, type OrderState, type OrderStatus, ORDER_STATUSES } from '@orderstream/schemas';

/** What every operator command needs: the broker, the topic names, a logger that keeps stdout for results. */
export interface OpsContext {
  kafka: Kafka;
  topics: TopicNames;
  logger: Logger;
  /**
   * The serdes for this command: with ORDERSTREAM_SCHEMA_REGISTRY_URL set, connected to the registry ('reader':
   * nothing registered; 'writer': registered or looked up like a service), so that the process-wide orderSerdes()
   * decodes both encodings; without it, orderSerdes(). Optional for contexts built by hand (tests).
   */
  schemaRegistry?: (role?: 'reader' | 'writer') => Promise<OrderSerdes>;
}

export function opsContext(name: string, env: NodeJS.ProcessEnv = process.env): OpsContext {
  const config = parseConfig(kafkaEnvSchema, env);
  // Results go to stdout; logs go to stderr, quiet unless asked for.
  const logger = createLogger({ name, level: env.LOG_LEVEL ? config.LOG_LEVEL : 'warn', destination: process.stderr });
  const topics = topicNames(config.ORDERSTREAM_TOPIC_PREFIX);
  const connected = new Map<string, Promise<OrderSerdes>>();
  const schemaRegistry = (role: 'reader' | 'writer' = 'reader'): Promise<OrderSerdes> => {
    let p = connected.get(role);
    if (p === undefined) {
      p = orderSerdesFromConfig(config, { topics, logger, role });
      connected.set(role, p);
    }
    return p;
  };
  return { kafka: createKafka({ brokers: config.KAFKA_BROKERS, clientId: `orderstream-${name}`, logger }), topics, logger, schemaRegistry };
}

/** `live`, `terminal` or a status word (case-insensitive) → a test on a status; throws RangeError for anything else. */
export function statusFilter(word: string | undefined): ((s: OrderStatus) => boolean) | undefined {
  if (word === undefined) return undefined;
  const w = word.toUpperCase();
  if (w === 'LIVE') return (s) => !isTerminal(s);
  if (w === 'TERMINAL') return (s) => isTerminal(s);
  if ((ORDER_STATUSES as readonly string[]).includes(w)) return (s) => s === w;
  throw new RangeError(`--status must be live, terminal or one of ${ORDER_STATUSES.join(', ')}; got ${JSON.stringify(word)}`);
}

/** Fixed-width columns for a terminal; the last column is not padded. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function orderRow(s: OrderState): string[] {
  const o = s.order;
  return [o.orderKey, o.status, o.side, o.venueSymbol, o.price ?? '-', o.quantity ?? o.venueQuantity ?? '-', o.filledQuantity ?? o.venueFilledQuantity ?? '-', o.averagePrice ?? '-', String(s.updateCount)];
}
export const ORDER_HEADER = ['orderKey', 'status', 'side', 'symbol', 'price', 'quantity', 'filled', 'avgPrice', 'updates'];

/** A buffer as text when it is valid UTF-8 text, else base64 (raw frames are exact bytes; some venues send binary). */
export function bytesText(buf: Buffer | null): string | null {
  if (buf === null) return null;
  const text = buf.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buf) ? text : `base64:${buf.toString('base64')}`;
}
