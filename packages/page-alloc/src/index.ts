export * from './api.js';
export * from './env.js';
export * from './report.js';
export * from './buddy.js';
export * from './bitmap.js';
