export * from './normalize.js';
export * from './app.js';
export * from './dlq-replay.js';
