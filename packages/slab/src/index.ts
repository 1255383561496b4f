export * from './api.js';
export * from './common.js';
export * from './env.js';
export * from './slob.js';
export * from './slub.js';
