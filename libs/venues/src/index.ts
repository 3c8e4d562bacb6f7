export * from './types.js';
export * from './reference.js';
export * from './session.js';
