import * as backup from '@aios/backup';
import * as carma from '@aios/carma';
import * as data from '@aios/data';
import * as luna from '@aios/luna';
import * as support from '@aios/support';
import type { ImplementationReport, NativeMode } from '@aios/utils';
import * as utils from '@aios/utils';

/** One installed core as `aios status` lists it. */
export interface CoreDescriptor {
  name: string;
  version: string;
  /** Reports the implementation in force; throws when `native` is required but missing. */
  implementation(mode?: NativeMode): ImplementationReport;
}

/**
 * The cores this system is composed of, in dependency order. Adding a core is one entry
 * here (see ARCHITECTURE.md, "Adding a core").
 */
export const CORES: readonly CoreDescriptor[] = [
  { name: '@aios/utils', version: utils.VERSION, implementation: utils.implementation },
  { name: '@aios/data', version: data.VERSION, implementation: data.implementation },
  { name: '@aios/carma', version: carma.VERSION, implementation: carma.implementation },
  { name: '@aios/luna', version: luna.VERSION, implementation: luna.implementation },
  { name: '@aios/backup', version: backup.VERSION, implementation: backup.implementation },
  { name: '@aios/support', version: support.VERSION, implementation: support.implementation },
];
