export * from './time.js';
export * from './slots.js';
