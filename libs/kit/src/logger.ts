import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out. Secrets are also wrapped in `Secret`, so this is the second line of defence for
 * anything that slips through as a plain string (a signature in a URL, a listen key in a topic name).
 */
export const REDACT_PATHS = [
  'secret', 'apiSecret', 'apiKey', 'signature', 'token', 'listenKey', 'wsApiKey', 'password', 'authorization',
  '*.secret', '*.apiSecret', '*.apiKey', '*.signature', '*.token', '*.listenKey', '*.wsApiKey', '*.password',
  '*.authorization', 'headers["validate-signature"]', 'headers["validate-appkey"]',
  '*.headers["validate-signature"]', '*.headers["validate-appkey"]',
];

export interface LoggerConfig {
  name: string;
  level?: LoggerOptions['level'];
  /** Where to write; defaults to stdout. Tests pass a stream to read log lines back. */
  destination?: pino.DestinationStream;
}

export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}

/** A logger that writes nothing, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
