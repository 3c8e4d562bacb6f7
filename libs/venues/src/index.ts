export * from './types.js';
export * from './reference.js';
export * from './session.js';
export * from './registry.js';
export * from './xt/index.js';
export * from './sim/index.js';
export * from './websea/index.js';
