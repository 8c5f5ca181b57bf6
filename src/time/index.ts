export * from './time.js';
export * from './slots.js';
export * from './window.js';
