export * from './publisher.js';
export * from './app.js';
export * from './config.js';
export * from './tracking.js';
