import { AiosError, ErrorCode } from '../errors.js';
import { type Implementation, type NativeMode, resolveNativeMode } from './mode.js';

/** What a core runs and why; `aios status` prints one of these per core. */
export interface ImplementationReport {
  /** Package name, e.g. `@aios/utils`. */
  core: string;
  implementation: Implementation;
  mode: NativeMode;
  /** One line a person can read: why this implementation was chosen. */
  reason: string;
  /** Every error the loader met while looking for a binary (empty when it loaded). */
  loadErrors: string[];
}

export interface NativeLoadOptions<T> {
  /** Package name of the core, used in reports and errors. */
  core: string;
  /**
   * Requires the core's napi-generated loader, e.g.
   * `() => require('../native/index.cjs')`. The generated loader stays untouched: it
   * throws when no binary matches this platform, with the attempts in `cause`.
   */
  load: () => T;
  /** Overrides `AIOS_NATIVE` for this load. */
  mode?: NativeMode;
}

export type NativeLoad<T> =
  | { binding: T; report: ImplementationReport & { implementation: 'native' } }
  | { binding: undefined; report: ImplementationReport & { implementation: 'js' } };

type LoadOutcome<T> = { ok: true; binding: T } | { ok: false; errors: string[] };

// The generated loader runs its platform probing once per process; so do we, per core.
const outcomes = new Map<string, LoadOutcome<unknown>>();

/** Flattens the loader's error and its `cause` chain into readable one-liners. */
export function collectLoadErrors(error: unknown): string[] {
  const messages: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    const message = current instanceof Error ? current.message : String(current);
    // Node appends a "Require stack:" listing to MODULE_NOT_FOUND; the first line says it all.
    const firstLine = message.split('\n')[0]?.trim() ?? message;
    if (firstLine && !messages.includes(firstLine)) messages.push(firstLine);
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages;
}

function tryLoad<T>(core: string, load: () => T): LoadOutcome<T> {
  const cached = outcomes.get(core) as LoadOutcome<T> | undefined;
  if (cached) return cached;
  let outcome: LoadOutcome<T>;
  try {
    outcome = { ok: true, binding: load() };
  } catch (error) {
    outcome = { ok: false, errors: collectLoadErrors(error) };
  }
  outcomes.set(core, outcome);
  return outcome;
}

const platformTag = `${process.platform}-${process.arch}`;

/**
 * The one load error worth a status line: the missing per-platform package when that is
 * the cause (the usual case), else a binary that exists but failed to load, else the first.
 */
function summarise(errors: string[]): string {
  const missingPackage = errors
    .map((e) => /^Cannot find module '(@[^']+)'/.exec(e)?.[1])
    .find((name) => name !== undefined && !name.includes('wasm32-wasi'));
  if (missingPackage) return `${missingPackage} is not installed`;
  return errors.find((e) => !e.startsWith('Cannot find')) ?? errors[0] ?? 'load failed';
}

/**
 * Loads a core's native binding according to the native mode.
 *
 * - `js`: never touches the binary.
 * - `auto`: the binary when it loads, else `js` with the load errors kept in the report.
 * - `native`: the binary, or an `AiosError` (`NATIVE_UNAVAILABLE`) listing what was tried.
 */
export function loadNativeBinding<T>(options: NativeLoadOptions<T>): NativeLoad<T> {
  const mode = resolveNativeMode(options.mode);
  const { core } = options;
  if (mode === 'js') {
    return {
      binding: undefined,
      report: {
        core,
        implementation: 'js',
        mode,
        reason: 'js implementation requested (native mode "js")',
        loadErrors: [],
      },
    };
  }
  const outcome = tryLoad(core, options.load);
  if (outcome.ok) {
    return {
      binding: outcome.binding,
      report: {
        core,
        implementation: 'native',
        mode,
        reason: `native binding loaded for ${platformTag}`,
        loadErrors: [],
      },
    };
  }
  const tried = outcome.errors.length > 0 ? outcome.errors.join('; ') : 'no error reported';
  if (mode === 'native') {
    throw new AiosError(
      ErrorCode.NATIVE_UNAVAILABLE,
      `${core}: AIOS_NATIVE=native but no native binding loaded for ${platformTag}. Tried: ${tried}`,
      { details: { core, platform: platformTag, loadErrors: outcome.errors } },
    );
  }
  return {
    binding: undefined,
    report: {
      core,
      implementation: 'js',
      mode,
      reason: `no native binding for ${platformTag} (${summarise(outcome.errors)}); using js`,
      loadErrors: outcome.errors,
    },
  };
}
