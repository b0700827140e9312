export { SerialQueue, type SerialQueueOptions, serial } from './serial-queue.js';
