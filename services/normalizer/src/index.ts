export * from './normalize.js';
export * from './app.js';
