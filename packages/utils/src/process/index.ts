export { isProcessAlive } from './alive.js';
