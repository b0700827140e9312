export { ReentrantQueue } from './reentrant-queue.js';
export { runAll } from './run-all.js';
export { SerialQueue, type SerialQueueOptions, serial } from './serial-queue.js';
