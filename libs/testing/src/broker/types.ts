/** Where a broker came from: an address list in KAFKA_BROKERS, a Docker container, or a JVM on this machine. */
export type BrokerKind = 'env' | 'docker' | 'local';

/** A running Kafka broker, whatever started it. */
export interface Broker {
  readonly kind: BrokerKind;
  /** Bootstrap addresses for clients, e.g. `['127.0.0.1:40123']`. */
  readonly brokers: string[];
  /** Stops the broker and releases what it used. Idempotent; a no-op for `kind: 'env'`. */
  stop(): Promise<void>;
}

/** How the local broker JVM ended. */
export interface BrokerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LocalBroker extends Broker {
  readonly kind: 'local';
  /** Absolute data dir: server.properties, broker.log, broker.pid and kraft-logs/. */
  readonly dataDir: string;
  /** PLAINTEXT (client) port on 127.0.0.1. */
  readonly port: number;
  /** CONTROLLER port on 127.0.0.1. Never give it to clients. */
  readonly controllerPort: number;
  /** The broker JVM's pid. */
  readonly pid: number;
  /** The JVM's stdout and stderr (truncated at each start). */
  readonly logFile: string;
  /** True when this start formatted the data dir; false when it reused an already formatted one. */
  readonly formatted: boolean;
  /** Whether the data dir is a temp dir that `stop()` deletes. */
  readonly temporary: boolean;
  /** Milliseconds from the call to ready: jar check, format (if any) and broker start. */
  readonly startupMs: number;
  /** Settles when the JVM exits, for whatever reason. */
  readonly exited: Promise<BrokerExit>;
}

export interface DockerBroker extends Broker {
  readonly kind: 'docker';
  readonly containerId: string;
}

export interface EnvBroker extends Broker {
  readonly kind: 'env';
}
