import type { Admin, ITopicConfig, Kafka } from 'kafkajs';
import kafkajs from 'kafkajs';
import { KafkaError, type Logger } from '@orderstream/kit';

const { ConfigResourceTypes } = kafkajs; // CommonJS: default export only under Node ESM

/** The pipeline's topics (DESIGN.md) plus orders.track.v1. Names get an optional prefix for isolated environments/tests. */
export const TOPIC_BASE_NAMES = {
  raw: 'orders.raw.v1',
  canonical: 'orders.canonical.v1',
  state: 'orders.state.v1',
  dlq: 'orders.dlq.v1',
  track: 'orders.track.v1',
} as const;

export type TopicRole = keyof typeof TOPIC_BASE_NAMES;
export type TopicNames = Record<TopicRole, string>;

export function topicNames(prefix = ''): TopicNames {
  return {
    raw: prefix + TOPIC_BASE_NAMES.raw,
    canonical: prefix + TOPIC_BASE_NAMES.canonical,
    state: prefix + TOPIC_BASE_NAMES.state,
    dlq: prefix + TOPIC_BASE_NAMES.dlq,
    track: prefix + TOPIC_BASE_NAMES.track,
  };
}

export interface TopicSpec {
  role: TopicRole;
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

export interface TopicLayout {
  prefix?: string;
  /** partitions of orders.raw.v1 (keyed venue|account) */
  rawPartitions?: number;
  /** partitions of orders.canonical.v1 AND orders.state.v1: always the same count (co-partitioned by orderKey) */
  orderPartitions?: number;
  replicationFactor?: number;
  /**
   * 'test' rolls the state topic's segments every 100 ms and cleans eagerly so compaction can be observed in
   * seconds; 'production' keeps Kafka's defaults for segment rolling.
   */
  profile?: 'production' | 'test';
}

const DAY_MS = 86_400_000;

/** Every topic's name, partitions and configs, in one place. */
export function topicSpecs(layout: TopicLayout = {}): TopicSpec[] {
  const names = topicNames(layout.prefix);
  const rf = layout.replicationFactor ?? 1;
  const raw = layout.rawPartitions ?? 3;
  const orders = layout.orderPartitions ?? 3;
  const test = layout.profile === 'test';
  return [
    {
      role: 'raw',
      name: names.raw,
      partitions: raw,
      replicationFactor: rf,
      // The replay source: keep it long enough to re-normalize after a mapper fix.
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
    },
    {
      role: 'canonical',
      name: names.canonical,
      partitions: orders,
      replicationFactor: rf,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
    },
    {
      role: 'state',
      name: names.state,
      partitions: orders,
      replicationFactor: rf,
      configs: {
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': test ? '0.01' : '0.1',
        'delete.retention.ms': String(test ? 1_000 : DAY_MS),
        ...(test ? { 'segment.ms': '100' } : {}),
      },
    },
    {
      role: 'dlq',
      name: names.dlq,
      partitions: 1,
      replicationFactor: rf,
      configs: { 'cleanup.policy': 'delete', 'retention.ms': String(30 * DAY_MS) },
    },
    {
      // Requests from downstream systems to poll an order on request/response venues (Binance). JSON values,
      // keyed venue|account|symbol|orderId; compacted, so the latest request per order is kept.
      role: 'track',
      name: names.track,
      partitions: 1,
      replicationFactor: rf,
      configs: { 'cleanup.policy': 'compact' },
    },
  ];
}

export interface EnsureTopicsReport {
  created: string[];
  existing: string[];
  /** configs (or partition counts) that differ from the spec on topics that already existed */
  differences: { topic: string; key: string; expected: string; actual: string | undefined }[];
}

/**
 * Creates missing topics and reports how existing ones differ from their spec. It never alters an existing
 * topic: changing a live topic's configs is an operator's decision. It fails when canonical and state
 * partition counts differ, because order-state relies on the two being co-partitioned.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[], logger?: Logger): Promise<EnsureTopicsReport> {
  const present = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !present.has(s.name));
  const report: EnsureTopicsReport = { created: [], existing: [], differences: [] };
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((s) => ({
      topic: s.name,
      numPartitions: s.partitions,
      replicationFactor: s.replicationFactor,
      configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
    }));
    await admin.createTopics({ topics, waitForLeaders: true });
    report.created.push(...missing.map((s) => s.name));
  }
  const existing = specs.filter((s) => present.has(s.name));
  report.existing.push(...existing.map((s) => s.name));
  if (existing.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: existing.map((s) => s.name) });
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: existing.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name })),
    });
    for (const spec of existing) {
      const partitions = meta.topics.find((t) => t.name === spec.name)?.partitions.length;
      if (partitions !== spec.partitions) {
        report.differences.push({ topic: spec.name, key: 'partitions', expected: String(spec.partitions), actual: String(partitions) });
      }
      const entries = described.resources.find((r) => r.resourceName === spec.name)?.configEntries ?? [];
      for (const [key, expected] of Object.entries(spec.configs)) {
        const actual = entries.find((e) => e.configName === key)?.configValue;
        if (actual !== expected) report.differences.push({ topic: spec.name, key, expected, actual });
      }
    }
  }
  for (const d of report.differences) logger?.warn(d, 'existing topic differs from its spec (left unchanged)');
  if (report.created.length > 0) logger?.info({ created: report.created }, 'created topics');

  const canonical = specs.find((s) => s.role === 'canonical');
  const state = specs.find((s) => s.role === 'state');
  if (canonical && state) {
    const meta = await admin.fetchTopicMetadata({ topics: [canonical.name, state.name] });
    const counts = meta.topics.map((t) => t.partitions.length);
    if (counts[0] !== counts[1]) {
      throw new KafkaError(
        'KAFKA_TOPIC_CONFIG_MISMATCH',
        `${canonical.name} has ${counts[0]} partitions but ${state.name} has ${counts[1]}: they must be equal (co-partitioned by orderKey)`,
      );
    }
  }
  return report;
}

/** Connects an admin client, ensures the pipeline's topics, disconnects. */
export async function ensurePipelineTopics(kafka: Kafka, layout: TopicLayout, logger?: Logger): Promise<EnsureTopicsReport> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await ensureTopics(admin, topicSpecs(layout), logger);
  } finally {
    await admin.disconnect();
  }
}

/** The broker's current config values of one topic (for checks and tools). */
export async function describeTopicConfigs(kafka: Kafka, topic: string): Promise<Record<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
    const entries = described.resources[0]?.configEntries ?? [];
    return Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
  } finally {
    await admin.disconnect();
  }
}

/** Number of partitions of a topic (it must exist). */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}
