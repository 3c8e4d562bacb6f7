export * from './publisher.js';
export * from './app.js';
export * from './config.js';
export * from './tracking.js';
export * from './state-view.js';
export * from './reconcile-once.js';
export * from './metrics.js';
