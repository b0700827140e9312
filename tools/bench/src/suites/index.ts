import type { Suite } from '../types.js';
import { hashingSuite } from './hashing.js';

/** Every suite `pnpm bench` knows, in the order they run. */
export const SUITES: readonly Suite[] = [hashingSuite];
