export * from './reduce.js';
export * from './store.js';
export * from './app.js';
export * from './http.js';
export * from './metrics.js';
export * from './retention.js';
