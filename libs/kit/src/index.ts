export * from './errors.js';
export * from './secret.js';
export * from './config.js';
export * from './logger.js';
export * from './retry.js';
export * from './shutdown.js';
export * from './decimal.js';
export * from './time.js';
