export {
  type AvroSchemaInput,
  canonicalForm,
  crc64Avro,
  fingerprintFromBytes,
  fingerprintHex,
  fingerprintToBytes,
  fingerprintToSignedLong,
  schemaFingerprint,
} from './fingerprint.js';
export { createAvroType, typeLabel } from './avro-type.js';
export {
  SINGLE_OBJECT_HEADER_LENGTH,
  SINGLE_OBJECT_MAGIC,
  type DecodedRecord,
  type SingleObjectCodec,
  type SingleObjectSerde,
  createSingleObjectSerde,
  isSingleObjectMessage,
  readSingleObjectFingerprint,
} from './single-object.js';
export { type CanonicalTopicValue, type OrderSerdes, type OrderSerdesOptions, createOrderSerdes, orderSerdes } from './order-serdes.js';
export {
  CONFLUENT_HEADER_LENGTH,
  CONFLUENT_MAGIC,
  ConfluentWriter,
  SchemaIdCache,
  isConfluentMessage,
  readConfluentSchemaId,
  type DecodedById,
  type SchemaIdSource,
} from './confluent.js';
export {
  COMPATIBILITY_LEVELS,
  createSchemaRegistryClient,
  type CompatibilityLevel,
  type SchemaRegistryAuth,
  type SchemaRegistryClient,
  type SchemaRegistryClientOptions,
} from './registry-client.js';
export * from './registry-serdes.js';
