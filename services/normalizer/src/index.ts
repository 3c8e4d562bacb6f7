export * from './normalize.js';
export * from './guard.js';
export * from './app.js';
export * from './dlq-replay.js';
export * from './metrics.js';
