export * from './frames.js';
export * from './mapper.js';
export * from './client.js';
export * from './lifecycles.js';
export * from './simulator.js';
export * from './fixtures.js';
export * from './rest.js';
export * from './reconciler.js';
