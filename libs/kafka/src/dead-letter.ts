import { headerString } from './headers.js';
import type { InRecord, OutRecord } from './pipeline.js';

/**
 * A dead letter keeps the original bytes as its value and the original headers, plus why and where from.
 * Key: the raw record's key (venue|account), so one account's dead letters stay in order.
 */
export function deadLetter(record: InRecord, code: string, message: string, dlqTopic: string): OutRecord {
  return {
    topic: dlqTopic,
    key: record.key ? record.key.toString('utf8') : headerKey(record),
    value: record.value,
    headers: {
      ...record.headers,
      'dlq-code': code,
      'dlq-message': message,
      'dlq-source-topic': record.topic,
      'dlq-source-partition': String(record.partition),
      'dlq-source-offset': record.offset,
    },
  };
}

function headerKey(record: InRecord): string {
  return `${headerString(record.headers, 'venue') ?? '?'}|${headerString(record.headers, 'account') ?? '?'}`;
}
