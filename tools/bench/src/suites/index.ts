import type { Suite } from '../types.js';
import { backupSuite } from './backup.js';
import { carmaSuite } from './carma.js';
import { carmaQualitySuite } from './carma-quality.js';
import { churnSuite } from './churn.js';
import { dataSuite } from './data.js';
import { dataPostgresSuite } from './data-postgres.js';
import { hashingSuite } from './hashing.js';
import { lunaSuite } from './luna.js';
import { scaleSuite } from './scale.js';
import { serveSuite } from './serve.js';
import { serveTtftSuite } from './serve-ttft.js';
import { startupSuite } from './startup.js';
import { supportSuite } from './support.js';

/** Every suite `pnpm bench` knows, in the order they run. */
export const SUITES: readonly Suite[] = [
  hashingSuite,
  supportSuite,
  carmaSuite,
  carmaQualitySuite,
  lunaSuite,
  dataSuite,
  dataPostgresSuite,
  backupSuite,
  startupSuite,
  churnSuite,
  serveSuite,
  serveTtftSuite,
  scaleSuite,
];
