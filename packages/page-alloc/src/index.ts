export * from './api.js';
export * from './bitmap.js';
export * from './buddy.js';
export * from './env.js';
export * from './report.js';
