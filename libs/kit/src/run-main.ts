import { AppError, ConfigError, type ErrorCode } from './errors.js';
import { redactUrlCredentials } from './config.js';

/**
 * Exit codes of every service and of the `orderstream` command (README "Configuration" → "Exit codes", the same
 * table). The code is the interface for supervisors: restart on 69/70/71, page a human on 2.
 */
export const EXIT_CODES = {
  /** stopped on SIGINT/SIGTERM, or a command finished */
  OK: 0,
  /** an unexpected failure (a bug); the stack trace is printed */
  UNEXPECTED: 1,
  /** configuration invalid (CONFIG_INVALID): every problem listed, nothing was connected */
  CONFIG_INVALID: 2,
  /** `orderstream ensure-topics` only: an existing topic differs from its spec */
  TOPICS_DIFFER: 3,
  /** the Kafka broker could not be reached at start within ORDERSTREAM_BROKER_WAIT_MS (KAFKA_UNAVAILABLE) */
  KAFKA_UNAVAILABLE: 69,
  /** a consumer died while running (normalizer, order-state); the supervisor should restart the service */
  CONSUMER_FAILED: 70,
  /** order-state's query API could not listen: port in use, address not available, no permission (HTTP_LISTEN_FAILED) */
  LISTEN_FAILED: 71,
  /** the schema registry (ORDERSTREAM_SCHEMA_REGISTRY_URL) could not be reached at start (SCHEMA_REGISTRY_UNAVAILABLE) */
  SCHEMA_REGISTRY_UNAVAILABLE: 72,
  /** the schema registry refused a schema at start (incompatible change, unknown in lookup mode, no permission: SCHEMA_REFUSED) */
  SCHEMA_REFUSED: 73,
  /** a second SIGINT/SIGTERM while stopping */
  INTERRUPTED: 130,
} as const;

const EXIT_BY_CODE: Partial<Record<ErrorCode, number>> = {
  CONFIG_INVALID: EXIT_CODES.CONFIG_INVALID,
  KAFKA_UNAVAILABLE: EXIT_CODES.KAFKA_UNAVAILABLE,
  HTTP_LISTEN_FAILED: EXIT_CODES.LISTEN_FAILED,
  SCHEMA_REGISTRY_UNAVAILABLE: EXIT_CODES.SCHEMA_REGISTRY_UNAVAILABLE,
  SCHEMA_REFUSED: EXIT_CODES.SCHEMA_REFUSED,
};

/** The exit code for an error that ended a start: documented codes for known failures, 1 for anything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof AppError) return EXIT_BY_CODE[error.code] ?? EXIT_CODES.UNEXPECTED;
  return EXIT_CODES.UNEXPECTED;
}

/**
 * What a failed start prints on stderr: the list of every configuration problem, or one line for a known start
 * failure; a stack trace only for the unexpected. URL credentials are masked in all of them.
 */
export function describeFatal(name: string, error: unknown): string {
  let text: string;
  if (error instanceof ConfigError) text = `${name}: ${error.message}\n`;
  else if (error instanceof AppError && EXIT_BY_CODE[error.code] !== undefined) text = `${name}: [${error.code}] ${error.message}\n`;
  else if (error instanceof AppError) text = `${name}: [${error.code}] ${error.stack ?? error.message}\n`;
  else text = `${name}: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
  return redactUrlCredentials(text);
}

/**
 * Runs a service's or command's `main`: configuration errors, known start failures and bugs each end the process
 * with its documented exit code and one message on stderr. A `main` that resolves a number exits with it; one that
 * resolves nothing leaves the process running (a service, stopped by onShutdown).
 */
export function runMain(name: string, main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(describeFatal(name, error));
      // exit now: clients that were created (not connected) must not keep the process alive
      process.exit(exitCodeOf(error));
    },
  );
}
