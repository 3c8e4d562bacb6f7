/**
 * One error type for the whole project. Every code is listed here once and documented in docs/errors.md
 * (a test checks that the two agree). `retriable` tells retry helpers whether trying again can help.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'FRAME_NOT_JSON',
  'FRAME_INVALID',
  'FRAME_UNKNOWN_VARIANT',
  'FRAME_UNKNOWN_STATUS',
  'FRAME_UNMAPPABLE',
  'FRAME_VALUE_OUT_OF_RANGE',
  'FRAME_ID_INVALID',
  'RAW_HEADERS_MISSING',
  'VENUE_UNKNOWN',
  'VENUE_AUTH_FAILED',
  'VENUE_LISTEN_KEY_INVALID',
  'VENUE_HTTP_ERROR',
  'VENUE_RATE_LIMITED',
  'VENUE_REST_REFUSED',
  'VENUE_SUBSCRIBE_FAILED',
  'VENUE_HEARTBEAT_TIMEOUT',
  'VENUE_CONNECTION_LOST',
  'KAFKA_UNAVAILABLE',
  'KAFKA_TOPIC_CONFIG_MISMATCH',
  'HTTP_LISTEN_FAILED',
  'AVRO_BAD_HEADER',
  'AVRO_BAD_BODY',
  'AVRO_UNKNOWN_FINGERPRINT',
  'AVRO_ENCODE_FAILED',
  'AVRO_UNKNOWN_SCHEMA_ID',
  'SCHEMA_REGISTRY_UNAVAILABLE',
  'SCHEMA_REFUSED',
  'BROKER_JARS_MISSING',
  'BROKER_PORT_IN_USE',
  'BROKER_START_FAILED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface AppErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  /** Structured facts for logs and dead letters. Never put secrets here. */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }
}

/** Bad configuration: the service stops before any I/O, listing every problem. */
export class ConfigError extends AppError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('CONFIG_INVALID', `invalid configuration (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n  - ${problems.join('\n  - ')}`);
    this.problems = problems;
  }
}

/** A venue frame that cannot be parsed, validated or mapped: it goes to the dead-letter topic. */
export class FrameError extends AppError {}

/** Something the venue said or did (auth refused, socket dropped, heartbeat missed). */
export class VenueError extends AppError {}

/** Kafka or broker trouble. */
export class KafkaError extends AppError {}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Best-effort message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
