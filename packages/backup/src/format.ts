import { AiosError } from '@aios/utils';
import type { ChunkerParams } from './fastcdc.js';

/** On-disk format version written into `config.json` (see FORMAT.md). */
export const FORMAT_VERSION = 1;
export const FORMAT_NAME = 'aios-backup';
/** Every pack file starts with these 8 bytes followed by the format version (u32 LE). */
export const PACK_MAGIC = 'AIOSPACK';
export const PACK_HEADER_SIZE = 12;

export const DEFAULT_CHUNKER: ChunkerParams = {
  minSize: 256 * 1024,
  avgSize: 1024 * 1024,
  maxSize: 4 * 1024 * 1024,
};
export const DEFAULT_COMPRESSION_LEVEL = 3;
export const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

export interface RepoConfig {
  format: typeof FORMAT_NAME;
  version: number;
  /** Random id of this repository (hex). */
  id: string;
  created: string;
  hash: 'blake3';
  chunker: ChunkerParams & { algorithm: 'fastcdc-2020' };
  compression: { algorithm: 'zstd'; level: number };
  /** Target size of a pack file in bytes. */
  packSize: number;
}

/** Where one blob lies in a pack. */
export interface IndexBlob {
  /** BLAKE3 hex of the uncompressed chunk. */
  id: string;
  offset: number;
  /** Compressed length in the pack. */
  length: number;
  /** Uncompressed length. */
  rawLength: number;
}

/** `index/<packId>.json`: the blobs of one pack. */
export interface IndexFile {
  version: number;
  pack: string;
  size: number;
  blobs: IndexBlob[];
}

export type EntryType = 'file' | 'dir' | 'symlink';

/** One path of a snapshot's tree. */
export interface Entry {
  /** Relative, `/`-separated: the absolute source path without its leading `/`. */
  path: string;
  type: EntryType;
  /** Permission bits (`mode & 0o7777`). */
  mode: number;
  size: number;
  /** Modification time in nanoseconds since the epoch, as a decimal string. */
  mtimeNs: string;
  uid: number;
  gid: number;
  inode: number;
  /** Chunk ids in order (files). */
  chunks?: string[];
  /** Link target (symlinks). */
  target?: string;
}

/** Something a backup could not store as it found it; the backup still completes. */
export interface BackupWarning {
  path: string;
  code: string;
  message: string;
}

export interface SnapshotSummary {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  filesNew: number;
  filesChanged: number;
  filesUnchanged: number;
  chunksNew: number;
  /** Uncompressed bytes of the new chunks. */
  bytesNew: number;
  /** Bytes added to the repository's pack files. */
  bytesStored: number;
  durationMs: number;
}

/** A summary with every count at zero, for a backup to fill in. */
export function emptySummary(): SnapshotSummary {
  return {
    files: 0,
    dirs: 0,
    symlinks: 0,
    bytes: 0,
    filesNew: 0,
    filesChanged: 0,
    filesUnchanged: 0,
    chunksNew: 0,
    bytesNew: 0,
    bytesStored: 0,
    durationMs: 0,
  };
}

/** `snapshots/<id>.json`, where id is the BLAKE3 of the file's bytes. */
export interface SnapshotFile {
  version: number;
  time: string;
  hostname: string;
  /** The absolute source paths that were backed up. */
  paths: string[];
  tags: string[];
  parent: string | null;
  summary: SnapshotSummary;
  warnings: BackupWarning[];
  entries: Entry[];
}

/** A snapshot without its tree, as `snapshots()` lists it. */
export type SnapshotInfo = Omit<SnapshotFile, 'entries'> & { id: string };

export const HEX64 = /^[0-9a-f]{64}$/;

/** A snapshot path is relative, `/`-separated, with no empty, `.` or `..` segment. */
export function isSafeRelativePath(path: unknown): path is string {
  if (typeof path !== 'string' || path === '' || path.includes('\0')) return false;
  if (path.startsWith('/') || path.includes('\\') || /^[a-zA-Z]:/.test(path)) return false;
  return path.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/**
 * Refuses a tree that would write outside its target: unsafe paths, and any entry below a
 * symlink entry (restoring it would write through the link).
 */
export function assertSafeTree(entries: readonly Entry[], snapshotId: string): void {
  const links = new Set<string>();
  for (const e of entries) if (e.type === 'symlink') links.add(e.path);
  for (const e of entries) {
    if (!isSafeRelativePath(e.path)) {
      throw new AiosError(
        'UNSAFE_PATH',
        `snapshot ${snapshotId}: entry path ${JSON.stringify(e.path)} would escape the target`,
        {
          details: { snapshot: snapshotId, path: e.path },
        },
      );
    }
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      if (links.has(ancestor)) {
        throw new AiosError(
          'UNSAFE_PATH',
          `snapshot ${snapshotId}: ${JSON.stringify(e.path)} lies below the symlink ${JSON.stringify(ancestor)}`,
          {
            details: { snapshot: snapshotId, path: e.path },
          },
        );
      }
    }
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the shape of a parsed snapshot file (REPO_CORRUPT when it is not one). */
export function parseSnapshot(id: string, value: unknown): SnapshotFile {
  const bad = (why: string) =>
    new AiosError('REPO_CORRUPT', `snapshot ${id}: ${why}`, { details: { snapshot: id } });
  if (!isObject(value)) throw bad('not a JSON object');
  if (value.version !== FORMAT_VERSION) throw bad(`unsupported version ${String(value.version)}`);
  if (!Array.isArray(value.entries) || !Array.isArray(value.paths)) throw bad('missing entries');
  for (const e of value.entries as unknown[]) {
    if (!isObject(e) || typeof e.path !== 'string') throw bad('an entry has no path');
    if (e.type !== 'file' && e.type !== 'dir' && e.type !== 'symlink') {
      throw bad(`entry ${JSON.stringify(e.path)} has unknown type ${String(e.type)}`);
    }
    if (
      e.type === 'file' &&
      (!Array.isArray(e.chunks) || !e.chunks.every((c) => typeof c === 'string' && HEX64.test(c)))
    ) {
      throw bad(`file ${JSON.stringify(e.path)} has no valid chunk list`);
    }
    if (e.type === 'symlink' && typeof e.target !== 'string') {
      throw bad(`symlink ${JSON.stringify(e.path)} has no target`);
    }
  }
  return value as unknown as SnapshotFile;
}

export function parseIndex(name: string, value: unknown): IndexFile {
  const bad = (why: string) =>
    new AiosError('REPO_CORRUPT', `index ${name}: ${why}`, { details: { index: name } });
  if (!isObject(value) || value.version !== FORMAT_VERSION) throw bad('not a version 1 index');
  if (typeof value.pack !== 'string' || !HEX64.test(value.pack)) throw bad('bad pack id');
  if (typeof value.size !== 'number' || !Array.isArray(value.blobs)) throw bad('bad size or blobs');
  for (const b of value.blobs as unknown[]) {
    if (
      !isObject(b) ||
      typeof b.id !== 'string' ||
      !HEX64.test(b.id) ||
      typeof b.offset !== 'number' ||
      typeof b.length !== 'number' ||
      typeof b.rawLength !== 'number' ||
      b.offset < PACK_HEADER_SIZE ||
      b.offset + b.length > value.size
    ) {
      throw bad('a blob entry is malformed or lies outside the pack');
    }
  }
  return value as unknown as IndexFile;
}
