export * from './api.js';
export * from './common.js';
export * from './slub.js';
