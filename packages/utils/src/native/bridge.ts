import { createRequire } from 'node:module';
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

/** The napi platform at the end of a binary package's name: `@aios/luna-linux-arm64-musl`. */
const PLATFORM_SUFFIX =
  /-((?:linux|darwin|win32|freebsd|android|openharmony)-[a-z0-9]+(?:-(?:gnu|musl|msvc|gnueabihf|musleabihf|eabi))?)$/;

let publishedCache: readonly string[] | undefined;

/**
 * The platforms AIOS publishes binaries for: the binary packages @aios/utils declares as
 * optionalDependencies (every core declares the same platforms; the release checks it).
 */
export function publishedPlatforms(): readonly string[] {
  if (publishedCache) return publishedCache;
  let optional: Record<string, string> = {};
  try {
    const require = createRequire(import.meta.url);
    optional = (require('@aios/utils/package.json') as { optionalDependencies?: typeof optional })
      .optionalDependencies ?? {};
  } catch {
    // Unreadable manifest: no platform is known to be published.
  }
  publishedCache = Object.keys(optional)
    .map((name) => PLATFORM_SUFFIX.exec(name)?.[1])
    .filter((platform): platform is string => platform !== undefined);
  return publishedCache;
}

/** Why no binary loaded, in one line, and whether any binary exists for this platform. */
export interface LoadFailure {
  summary: string;
  /** False when no binary is published for this platform (js is then the only choice). */
  published: boolean;
}

/**
 * The one load error worth a status line. When the loader looked for a binary package
 * for a platform AIOS publishes no binary for, it says so plainly (not npm's
 * optional-dependency bug the generated loader quotes); a published one that is missing
 * was left out of the install; else a binary that exists but failed to load.
 */
export function describeLoadFailure(
  errors: string[],
  published: readonly string[] = publishedPlatforms(),
): LoadFailure {
  const missingPackage = errors
    .map((e) => /^Cannot find module '(@[^'/]+\/[^'/]+)'/.exec(e)?.[1])
    .find((name) => name !== undefined && !name.includes('wasm32-wasi'));
  const available = published.length > 0 ? published.join(', ') : 'none';
  const unpublished = (platform: string): LoadFailure => ({
    summary: `no native binary is published for ${platform} (binaries exist for: ${available})`,
    published: false,
  });
  if (missingPackage) {
    const platform = PLATFORM_SUFFIX.exec(missingPackage)?.[1];
    if (platform && !published.includes(platform)) return unpublished(platform);
    return {
      summary: `${missingPackage} is not installed`,
      published: true,
    };
  }
  if (errors.some((e) => e.startsWith('Unsupported '))) return unpublished(platformTag);
  const failed = errors.find((e) => !e.startsWith('Cannot find')) ?? errors[0] ?? 'load failed';
  return { summary: failed, published: true };
}

/** The loader's hint about npm's optional-dependency bug, beside the point when no binary exists. */
const NPM_BUG_HINT = /npm has a bug related to optional dependencies/;

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
  const failure = describeLoadFailure(outcome.errors);
  const shown = failure.published
    ? outcome.errors
    : outcome.errors.filter((e) => !NPM_BUG_HINT.test(e));
  const tried = shown.length > 0 ? shown.join('; ') : 'no error reported';
  if (mode === 'native') {
    throw new AiosError(
      ErrorCode.NATIVE_UNAVAILABLE,
      `${core}: AIOS_NATIVE=native but no native binding loaded for ${platformTag}: ${failure.summary}. Tried: ${tried}`,
      { details: { core, platform: platformTag, loadErrors: outcome.errors } },
    );
  }
  return {
    binding: undefined,
    report: {
      core,
      implementation: 'js',
      mode,
      reason: failure.published
        ? `no native binding for ${platformTag} (${failure.summary}); using js`
        : `${failure.summary}; running the js implementation`,
      loadErrors: outcome.errors,
    },
  };
}
