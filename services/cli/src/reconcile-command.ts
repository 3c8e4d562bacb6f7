import { ConfigError, createLogger } from '@orderstream/kit';
import { createKafka, orderSerdesFromConfig, topicNames } from '@orderstream/kafka';
import { createAccounts, loadCollectorConfig, reconcileOnce } from '@orderstream/collector';

export interface ReconcileCommandOptions {
  venue: string | undefined;
  account: string | undefined;
  /** ISO time or epoch ms where the gap began; default: the latest update the state holds for the account */
  since: string | undefined;
  json: boolean;
}

function parseSince(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError([`--since: ${JSON.stringify(text)} is neither an ISO time nor epoch milliseconds`]);
  return ms;
}

/**
 * `orderstream reconcile --venue v --account a`: asks the venue now what the state may have missed, with the
 * collector's own configuration (KAFKA_BROKERS, ORDERSTREAM_TOPIC_PREFIX, COLLECTOR_ACCOUNTS_FILE), and writes
 * the answers to orders.raw.v1 as the collector would. Exit 0 when the run completed, 1 when the venue could not
 * be asked, 2 on bad arguments or configuration.
 */
export async function reconcileCommand(
  options: ReconcileCommandOptions,
  env: NodeJS.ProcessEnv = process.env,
  output: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const problems: string[] = [];
  if (!options.venue) problems.push('--venue is required');
  if (!options.account) problems.push('--account is required');
  if (problems.length > 0) throw new ConfigError(problems);
  const sinceMs = options.since === undefined ? undefined : parseSince(options.since);
  const config = loadCollectorConfig(env);
  const spec = config.accounts.find((a) => a.venue === options.venue && a.account === options.account);
  if (!spec) {
    const known = config.accounts.map((a) => `${a.venue}|${a.account}`).join(', ');
    throw new ConfigError([`${options.venue}|${options.account} is not in ${config.COLLECTOR_ACCOUNTS_FILE} (it lists: ${known})`]);
  }
  const logger = createLogger({ name: 'reconcile', level: config.LOG_LEVEL });
  const [target] = createAccounts([spec], logger);
  if (!target?.client.reconciler) throw new ConfigError([`venue ${spec.venue} cannot be reconciled (no REST reconciler)`]);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'orderstream-reconcile', logger });
  const topics = topicNames(config.ORDERSTREAM_TOPIC_PREFIX);
  // Reads orders.state.v1 in either encoding, like the collector (registry mode: ORDERSTREAM_SCHEMA_REGISTRY_URL).
  const serdes = await orderSerdesFromConfig(config, { topics, logger, role: 'reader' });
  const report = await reconcileOnce({
    kafka, topics, target, decodeState: serdes.decodeState, logger, ...(sinceMs !== undefined ? { sinceMs } : {}),
  });
  if (options.json) {
    output.write(`${JSON.stringify({ venue: spec.venue, account: spec.account, ...report })}\n`);
  } else {
    const lines = [
      `reconciled ${spec.venue}|${spec.account} as of ${new Date(report.asOfMs).toISOString()}`,
      `  open orders at the venue: ${report.openOrders}`,
      `  history: ${report.history === null ? 'not asked (no history endpoint, or no known gap start)' : `${report.history} order(s) since ${new Date(report.historySinceMs ?? 0).toISOString()}`}`,
      `  detail lookups: ${report.lookups} (unknown to the venue: ${report.unknown.length}, failed: ${report.failed.length}, deferred by the bound: ${report.deferred.length})`,
      '  the answers are in orders.raw.v1; the normalizer and order-state apply them as they come',
    ];
    output.write(`${lines.join('\n')}\n`);
  }
  return 0;
}
