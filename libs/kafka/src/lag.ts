import type { Kafka } from './client.js';

/**
 * Consumer lag of a group on one topic: per partition, the log end offset less the group's committed offset (the
 * whole partition when the group has committed nothing there). Read with the admin client; one round trip each.
 */
export async function consumerLag(kafka: Kafka, groupId: string, topic: string): Promise<Record<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const done = new Map<number, bigint>();
    for (const t of committed) for (const p of t.partitions) if (p.offset !== '-1') done.set(p.partition, BigInt(p.offset));
    const lag: Record<number, number> = {};
    for (const e of ends) {
      const from = done.get(e.partition) ?? BigInt(e.low);
      const behind = BigInt(e.high) - from;
      lag[e.partition] = Number(behind > 0n ? behind : 0n);
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Keeps `consumerLag` fresh every `everyMs` in the background, for metrics that must answer synchronously; the
 * last reading is kept when one fails. `stop()` ends it.
 */
export function pollConsumerLag(kafka: Kafka, groupId: string, topic: string, everyMs = 5_000): { current(): Record<number, number>; stop(): void } {
  let last: Record<number, number> = {};
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    consumerLag(kafka, groupId, topic)
      .then((lag) => void (last = lag), () => undefined)
      .finally(() => (running = false));
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  tick();
  return { current: () => last, stop: () => clearInterval(timer) };
}
