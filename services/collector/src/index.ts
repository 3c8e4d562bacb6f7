export * from './publisher.js';
export * from './app.js';
