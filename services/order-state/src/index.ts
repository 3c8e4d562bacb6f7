export * from './reduce.js';
export * from './store.js';
export * from './app.js';
