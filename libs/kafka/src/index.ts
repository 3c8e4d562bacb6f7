export * from './client.js';
export * from './topics.js';
export * from './headers.js';
export * from './pipeline.js';
export * from './read.js';
export * from './config.js';
export * from './dead-letter.js';
export * from './avro/index.js';
