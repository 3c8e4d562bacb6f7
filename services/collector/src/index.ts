export * from './publisher.js';
export { readSpoolDir, Spool, type SpoolOpenReport, type SpoolOptions } from './spool.js';
export type { SpoolRecord } from './spool-record.js';
export * from './app.js';
export * from './config.js';
export * from './tracking.js';
export * from './state-view.js';
export * from './reconcile-once.js';
export * from './metrics.js';
