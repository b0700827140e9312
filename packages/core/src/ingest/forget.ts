/**
 * Forgetting what came from files: every fragment ingested from a file or from the files
 * of a folder (or everything in a namespace), with their records in the source index.
 * A fragment another file still has is kept (it then names that file as its source), and
 * one the user added by hand that a file happened to repeat is never taken.
 */
import { sep } from 'node:path';
import type { Fragment } from '@aios/carma';
import { AiosError, createHashing } from '@aios/utils';
import { givenPaths } from './files.js';
import { placesOf } from './places.js';
import { atomically, type IngestTarget, sourceOf, stopReason, within } from './target.js';

export interface ForgetSelection {
  /** Files or folders: every source at or below them. */
  paths?: readonly string[];
  /** Only this namespace; without `paths`, everything in it. */
  namespace?: string;
}

export interface ForgetPlan {
  /** The absolute paths asked for (empty: the whole namespace). */
  paths: string[];
  namespace: string | null;
  /** The files whose record is removed. */
  sources: Array<{ namespace: string; path: string }>;
  /** The fragments deleted. */
  fragments: Array<{ id: string; namespace: string; source: string | null; text: string }>;
  /** Fragments kept because a file not forgotten has them too; they move to that file. */
  shared: Array<{ id: string; source: string }>;
}

export interface ForgetResult {
  /** Files forgotten. */
  sources: number;
  /** Fragments deleted. */
  fragments: number;
  /** Fragments kept for the other files that have them. */
  shared: number;
  /** Why it stopped before the end (e.g. `SIGINT`); what was done stays done. */
  interrupted?: string;
}

/** Fragments deleted per transaction: bounds how long a stop waits and how long the lock is held. */
const BATCH = 256;

/** What `forgetSources` would remove, without changing anything. */
export async function planForget(
  target: IngestTarget,
  selection: ForgetSelection,
): Promise<ForgetPlan> {
  const { memory, data } = target;
  const paths = givenPaths(selection.paths ?? []);
  const namespace = selection.namespace ?? null;
  if (paths.length === 0 && namespace === null) {
    throw new AiosError(
      'INVALID_INPUT',
      'nothing to forget: give files or folders, or --namespace',
    );
  }
  await memory.refresh();
  const listed = await data.sources.list(namespace === null ? {} : { namespace });
  const sources = paths.length === 0 ? listed : listed.filter((s) => within(s.path, paths, sep));
  const chosen = new Set(sources.map((s) => `${s.namespace}\0${s.path}`));

  // Every fragment of the namespace, or those ingested from the paths: recorded in the
  // index, or (ingested before it existed) named by their metadata.
  const candidates = new Map<string, Fragment>();
  for (const s of sources) {
    for (const p of await data.sources.pieces(s.namespace, s.path)) {
      const f = await memory.get(p.fragmentId);
      if (f) candidates.set(f.id, f);
    }
  }
  for (const f of await memory.list(namespace === null ? {} : { namespace })) {
    const source = sourceOf(f);
    if (paths.length === 0 || (source !== undefined && within(source, paths, sep))) {
      candidates.set(f.id, f);
    }
  }

  const shared: ForgetPlan['shared'] = [];
  const fragments: ForgetPlan['fragments'] = [];
  const elsewhere = new Map<string, string>();
  if (paths.length > 0) {
    for (const p of await data.sources.piecesOf([...candidates.keys()])) {
      if (!chosen.has(`${p.namespace}\0${p.path}`)) elsewhere.set(p.fragmentId, p.path);
    }
  }
  for (const f of candidates.values()) {
    const source = sourceOf(f) ?? null;
    const other = elsewhere.get(f.id);
    if (other !== undefined) shared.push({ id: f.id, source: other });
    else if (paths.length === 0 || (source !== null && within(source, paths, sep))) {
      fragments.push({ id: f.id, namespace: f.namespace, source, text: f.text });
    }
    // Otherwise a fragment the user (or Luna) had before a file repeated it: kept.
  }
  return {
    paths,
    namespace,
    sources: sources.map((s) => ({ namespace: s.namespace, path: s.path })),
    fragments,
    shared,
  };
}

/**
 * Carries out a plan: a file at a time (its fragments in batches, each one transaction;
 * its record with the last batch), so that a stop leaves every file either forgotten or
 * still recorded, to be forgotten by running again.
 */
export async function forgetSources(
  target: IngestTarget,
  plan: ForgetPlan,
  options: { signal?: AbortSignal } = {},
): Promise<ForgetResult> {
  const { memory, data } = target;
  const result: ForgetResult = { sources: 0, fragments: 0, shared: 0 };
  const bySource = new Map<string, string[]>();
  for (const f of plan.fragments) {
    const key = f.source ?? '';
    bySource.set(key, [...(bySource.get(key) ?? []), f.id]);
  }
  const records = new Map<string, Array<{ namespace: string; path: string }>>();
  for (const s of plan.sources) records.set(s.path, [...(records.get(s.path) ?? []), s]);
  for (const path of records.keys()) if (!bySource.has(path)) bySource.set(path, []);

  // Where the fragments other files also have are in those files: read from the files.
  const places =
    plan.shared.length === 0
      ? new Map()
      : await placesOf(
          data.sources,
          await createHashing({ native: memory.implementation === 'native' ? 'native' : 'js' }),
          plan.shared,
        );
  for (const s of plan.shared) {
    if (options.signal?.aborted) return stopped(result, options.signal);
    const f = await memory.get(s.id);
    if (!f) continue;
    // Already the other file's (taken over when it was ingested as a renamed file): its
    // line there is kept. Else it takes its place in that file, when the file has it still.
    if (sourceOf(f) !== s.source) {
      const { line: _line, offset: _offset, ...rest } = f.metadata;
      await memory.update(s.id, {
        metadata: { ...rest, source: s.source, ...places.get(s.id) },
      });
    }
    result.shared++;
  }
  for (const [path, ids] of bySource) {
    const forgotten = records.get(path) ?? [];
    for (let i = 0; i === 0 || i < ids.length; i += BATCH) {
      if (options.signal?.aborted) return stopped(result, options.signal);
      const batch = ids.slice(i, i + BATCH);
      const last = i + BATCH >= ids.length;
      await atomically(target, async () => {
        for (const id of batch) {
          if (await memory.get(id)) {
            await memory.delete(id);
            result.fragments++;
          }
        }
        if (last) for (const s of forgotten) await data.sources.remove(s.namespace, s.path);
      });
    }
    result.sources += forgotten.length;
  }
  await memory.flush();
  return result;
}

function stopped(result: ForgetResult, signal: AbortSignal): ForgetResult {
  return { ...result, interrupted: stopReason(signal) };
}
