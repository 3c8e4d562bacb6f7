import { randomBytes } from 'node:crypto';

/** Broker setting values as written to server.properties. */
export type BrokerSettings = Readonly<Record<string, string | number | boolean>>;

/**
 * Cluster id of every reused data dir (`npm run broker`, the demo). StorageTool refuses to re-format a dir that
 * holds another id, and the harness skips formatting a dir that already has meta.properties, so a fixed id keeps
 * a second run on the same dir working. (Same value testcontainers-java uses.)
 */
export const FIXED_CLUSTER_ID = '4L6g3nShT-eMCtK--X86sw';

/** Node id of the single combined broker+controller. */
export const NODE_ID = 1;

/**
 * The test profile shared by the local JVM broker and the Docker broker: one node, internal topics with one
 * replica and one partition, and the waits that slow tests down turned off. Listener settings are added per run.
 */
export const TEST_BROKER_SETTINGS: BrokerSettings = {
  // Single node: the defaults (RF 3, ISR 2, 50 partitions) cannot be met and make the first group join slow.
  'num.partitions': 1,
  'default.replication.factor': 1,
  'min.insync.replicas': 1,
  'offsets.topic.replication.factor': 1,
  'offsets.topic.num.partitions': 1,
  'transaction.state.log.replication.factor': 1,
  'transaction.state.log.min.isr': 1,
  'transaction.state.log.num.partitions': 1,
  // Fast tests: no 3 s wait before the first rebalance; topics exist only when a test creates them.
  'group.initial.rebalance.delay.ms': 0,
  'auto.create.topics.enable': false,
  'delete.topic.enable': true,
  // A 2-core machine.
  'num.network.threads': 2,
  'num.io.threads': 4,
  'num.recovery.threads.per.data.dir': 1,
  // The cleaner allocates this buffer on the heap when it starts (default 128 MiB); it must stay above 1 MiB.
  'log.cleaner.dedupe.buffer.size': 4 * 1024 * 1024,
  // Compaction and retention observable within seconds instead of 15 s / 5 min.
  'log.cleaner.backoff.ms': 200,
  'log.retention.check.interval.ms': 1_000,
};

export interface ServerPropertiesInput {
  /** PLAINTEXT (client) port on 127.0.0.1; this is what clients are given. */
  port: number;
  /** CONTROLLER port on 127.0.0.1; never give it to clients. */
  controllerPort: number;
  /** Absolute path for `log.dirs` (data and the KRaft metadata log). */
  logDir: string;
  /** Extra settings; they win over the defaults. */
  overrides?: BrokerSettings;
}

/**
 * server.properties for a single-node KRaft broker in combined mode with a static quorum (so StorageTool needs no
 * --standalone), bound to 127.0.0.1 only. Used by both `StorageTool format` and `kafka.Kafka`.
 */
export function renderServerProperties(input: ServerPropertiesInput): string {
  const host = '127.0.0.1';
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': NODE_ID,
    'controller.quorum.voters': `${NODE_ID}@${host}:${input.controllerPort}`,
    listeners: `PLAINTEXT://${host}:${input.port},CONTROLLER://${host}:${input.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${input.port}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': input.logDir,
    ...TEST_BROKER_SETTINGS,
    ...input.overrides,
  };
  const lines = ['# Written by @orderstream/testing for one broker run; edits are overwritten on the next start.'];
  for (const [key, value] of Object.entries(settings)) lines.push(`${key}=${escapePropertyValue(String(value))}`);
  return `${lines.join('\n')}\n`;
}

/** java.util.Properties escaping for values: backslashes (Windows paths) and leading blanks. */
function escapePropertyValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/^ /, '\\ ').replace(/\n/g, '\\n');
}

/**
 * Environment variable for a broker setting in the apache/kafka image: `.` → `_`, `_` → `__`, `-` → `___`,
 * upper case, prefixed with KAFKA_ (apache/kafka docker/examples/README.md).
 */
export function dockerEnvName(setting: string): string {
  const mapped = setting
    .split('')
    .map((c) => (c === '.' ? '_' : c === '_' ? '__' : c === '-' ? '___' : c))
    .join('');
  return `KAFKA_${mapped.toUpperCase()}`;
}

export function toDockerEnv(settings: BrokerSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) env[dockerEnvName(key)] = String(value);
  return env;
}

/** A fresh cluster id: 16 random bytes, base64url (22 chars), never starting with '-' (Kafka's own rule). */
export function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
