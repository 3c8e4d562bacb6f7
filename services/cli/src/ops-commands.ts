import { ConfigError } from '@orderstream/kit';
import { onlyFlags, onlyPositionals } from './args.js';

/** Help text of the operator commands (appended to `orderstream help`). */
export const OPS_HELP = `
operator tools (read KAFKA_BROKERS and ORDERSTREAM_TOPIC_PREFIX; results on stdout, --json for JSON lines):
  orderstream tail <raw|canonical|state|dlq> [--from-beginning] [--venue v] [--account a] [--order id] [--limit n]
      follow a topic (read_committed), decoded: Avro → JSON, raw frames as text with their headers
  orderstream get <orderKey> [--api URL]
      one order's current state: from the query API when one answers (--api or ORDERSTREAM_API_URL), else from
      orders.state.v1; exit 1 when no order has that key
  orderstream orders [--venue v] [--account a] [--status live|terminal|<status>] [--api URL]
      the matching orders, the same way
  orderstream dlq list [--code C]
      dead letters counted by code, with the newest examples
  orderstream dlq replay [--code C] [--dry-run]
      re-normalize dead letters with today's mappers, exactly once (docs/dead-letters.md)
`;

const int = (v: string | undefined, what: string): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new ConfigError([`${what} must be a whole number ≥ 1, got ${JSON.stringify(v)}`]);
  return Number(v);
};

/** Runs an operator command; undefined when `command` is not one. Exit codes: 0 ok, 1 not found / failed, 2 usage. */
export async function runOpsCommand(command: string, flags: Map<string, string>, positionals: string[]): Promise<number | undefined> {
  const json = flags.has('json');
  switch (command) {
    case 'tail': {
      onlyFlags(flags, ['from-beginning', 'venue', 'account', 'order', 'limit', 'json']);
      onlyPositionals(positionals, 1, 'tail takes one topic');
      const { tailCommand, TAIL_TOPICS } = await import('./tail-command.js');
      if (!positionals[0] || !(TAIL_TOPICS as readonly string[]).includes(positionals[0])) throw new ConfigError([`tail needs a topic: ${TAIL_TOPICS.join(' | ')}`]);
      return tailCommand({
        topic: positionals[0], fromBeginning: flags.has('from-beginning'), venue: flags.get('venue'), account: flags.get('account'), order: flags.get('order'),
        json, limit: int(flags.get('limit'), '--limit'),
      });
    }
    case 'get': {
      onlyFlags(flags, ['api', 'json']);
      onlyPositionals(positionals, 1, 'get takes one orderKey');
      if (!positionals[0]) throw new ConfigError(['get needs an orderKey: venue|account|orderId']);
      const { getCommand } = await import('./orders-command.js');
      return (await getCommand({ key: positionals[0], api: flags.get('api'), json })).code;
    }
    case 'orders': {
      onlyFlags(flags, ['venue', 'account', 'status', 'api', 'json']);
      onlyPositionals(positionals, 0, '');
      const { statusFilter } = await import('./ops.js');
      try {
        statusFilter(flags.get('status'));
      } catch (error) {
        throw new ConfigError([(error as Error).message]);
      }
      const { ordersCommand } = await import('./orders-command.js');
      return (await ordersCommand({ venue: flags.get('venue'), account: flags.get('account'), status: flags.get('status'), api: flags.get('api'), json })).code;
    }
    case 'dlq': {
      onlyPositionals(positionals, 1, 'dlq takes list or replay');
      const { dlqListCommand, dlqReplayCommand } = await import('./dlq-command.js');
      if (positionals[0] === 'list') {
        onlyFlags(flags, ['code', 'json']);
        await dlqListCommand({ code: flags.get('code'), json });
        return 0;
      }
      if (positionals[0] === 'replay') {
        onlyFlags(flags, ['code', 'dry-run', 'json']);
        await dlqReplayCommand({ code: flags.get('code'), dryRun: flags.has('dry-run'), json });
        return 0;
      }
      throw new ConfigError(['dlq needs a subcommand: list | replay']);
    }
    default:
      return undefined;
  }
}
