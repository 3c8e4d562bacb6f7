export * from './server.js';
export * from './faults.js';
export * from './random.js';
export * from './rest-faults.js';
