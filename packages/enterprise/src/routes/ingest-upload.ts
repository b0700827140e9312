import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { headProblem, INGEST_KINDS_TEXT, MAX_FILE_BYTES } from '@aios/core';
import { MAX_NAMESPACE_LENGTH } from '@aios/data';
import { fromNodeIoError, isAiosError } from '@aios/utils';
import type { FastifyRequest } from 'fastify';
import { apiError } from '../http/errors.js';
import { TENANTS_DIR } from '../tenants/ids.js';

/** Where a tenant's uploads are staged, in its home (left out of its backups). */
export const UPLOADS_DIR = '.uploads';
/** Files per upload. */
export const MAX_UPLOAD_FILES = 100;
const MAX_NAME_SEGMENTS = 16;
const MAX_SEGMENT_BYTES = 255;

export interface StagedUpload {
  /** The directory the files were written to. */
  dir: string;
  /** The files' names as uploaded (relative paths, `/`-separated), in order. */
  names: string[];
  namespace: string | undefined;
  bytes: number;
}

/**
 * A file name as uploaded, made a safe relative path: `/` or `\` separate folders (a folder
 * upload keeps its structure), and no part may be empty, `.`, `..`, too long, or hold
 * control characters.
 */
export function uploadName(raw: string | undefined): string {
  const parts = (raw ?? '').split(/[\\/]+/).filter((p) => p !== '');
  const bad = (p: string) =>
    p === '.' ||
    p === '..' ||
    Buffer.byteLength(p) > MAX_SEGMENT_BYTES ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    /[\u0000-\u001f\u007f]/.test(p);
  if (parts.length === 0 || parts.length > MAX_NAME_SEGMENTS || parts.some(bad)) {
    throw apiError(
      'INVALID_INPUT',
      `file name ${JSON.stringify(raw ?? '')}: expected a file name or relative path (no empty, "." or ".." parts, no control characters, at most ${MAX_NAME_SEGMENTS} parts of ${MAX_SEGMENT_BYTES} bytes)`,
      { field: 'file', filename: raw ?? '' },
    );
  }
  return parts.join('/');
}

/**
 * Removes what uploads left in `home` and its tenants' homes: a server killed while it
 * staged or ingested an upload leaves its files there, unseen. Called when a server takes
 * the home, before any upload can be running (one server per home).
 */
export async function clearUploads(home: string): Promise<void> {
  const homes = [home];
  const tenants = join(home, TENANTS_DIR);
  const entries = await readdir(tenants, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) homes.push(join(tenants, e.name));
  for (const h of homes) await rm(join(h, UPLOADS_DIR), { recursive: true, force: true });
}

/** The directory the uploads of one namespace are ingested from (a stable path per name). */
export function namespaceDir(home: string, namespace: string): string {
  const digest = createHash('sha256').update(namespace).digest('hex').slice(0, 16);
  return join(home, UPLOADS_DIR, `ns-${digest}`);
}

/**
 * Counts bytes through the stream, refuses a start ingest cannot read (binary, or a
 * document that does not start as its kind does: `headProblem`), and stops at the
 * request's limit.
 */
function guard(name: string, budget: { left: number; limit: number }): Transform {
  let head = Buffer.alloc(0);
  let sniffed = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      budget.left -= chunk.length;
      if (budget.left < 0) {
        done(
          apiError(
            'PAYLOAD_TOO_LARGE',
            `the upload is larger than ${sizeText(budget.limit)} in all, the most this server takes (server.uploadLimitBytes); ${name} went past it`,
            { file: name, limit: budget.limit },
          ),
        );
        return;
      }
      if (!sniffed) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= 1024) {
          sniffed = true;
          const reason = headProblem(name, head);
          if (reason) {
            done(binaryFile(name, reason));
            return;
          }
        }
      }
      done(null, chunk);
    },
    flush(done) {
      const reason = sniffed ? undefined : headProblem(name, head);
      done(reason ? binaryFile(name, reason) : null);
    },
  });
}

/** A size as people read it: 2,000 bytes, 512 KB, 1.5 MB. */
function sizeText(bytes: number): string {
  if (bytes < 10_000) return `${bytes.toLocaleString('en-US')} bytes`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${Number((bytes / 1_000_000).toFixed(1))} MB`;
}

const binaryFile = (name: string, reason: string) =>
  apiError('UNSUPPORTED_MEDIA_TYPE', `${name} is ${reason}: ingest reads ${INGEST_KINDS_TEXT}`, {
    file: name,
    reason,
  });

/**
 * Streams a multipart upload (`file` parts, repeatable, and an optional `namespace` field)
 * into a new directory under `<home>/.uploads`, checking as it goes: at most
 * `limitBytes` in all (and `MAX_FILE_BYTES` per file), no binary file, no unknown field.
 * On any failure what was written is removed and the error is thrown.
 */
export async function stageUpload(
  request: FastifyRequest,
  home: string,
  limitBytes: number,
): Promise<StagedUpload> {
  if (!request.isMultipart()) {
    throw apiError(
      'UNSUPPORTED_MEDIA_TYPE',
      'upload the files as multipart/form-data: one "file" part per file, and an optional "namespace" field',
    );
  }
  const dir = join(home, UPLOADS_DIR, `staging-${randomUUID()}`);
  const budget = { left: limitBytes, limit: limitBytes };
  const fileLimit = Math.min(limitBytes, MAX_FILE_BYTES);
  /** The file being read, for a refusal that comes from the reader. */
  let current: string | undefined;
  const staged: StagedUpload = { dir, names: [], namespace: undefined, bytes: 0 };
  try {
    await mkdir(dir, { recursive: true });
    const parts = request.parts({
      // The name as sent, folders included (checked by `uploadName`).
      preservePath: true,
      limits: { fileSize: fileLimit, files: MAX_UPLOAD_FILES },
    });
    for await (const part of parts) {
      if (part.type === 'field') {
        if (part.fieldname !== 'namespace') throw unknownField(part.fieldname);
        staged.namespace = namespaceField(part.value);
        continue;
      }
      if (part.fieldname !== 'file') {
        part.file.resume();
        throw unknownField(part.fieldname);
      }
      const name = uploadName(part.filename);
      if (staged.names.includes(name)) {
        part.file.resume();
        throw apiError('INVALID_INPUT', `file ${name} is in the upload twice`, { file: name });
      }
      const target = join(dir, ...name.split('/'));
      await mkdir(dirname(target), { recursive: true });
      current = name;
      await pipeline(part.file, guard(name, budget), createWriteStream(target));
      staged.names.push(name);
    }
    if (staged.names.length === 0) {
      throw apiError('INVALID_INPUT', 'no file in the upload: send one "file" part per file', {
        field: 'file',
      });
    }
    staged.bytes = limitBytes - budget.left;
    return staged;
  } catch (error) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    const code = (error as { code?: unknown })?.code;
    // The multipart reader's own refusal names neither the file nor the limit.
    if (code === 'FST_REQ_FILE_TOO_LARGE') {
      throw apiError(
        'PAYLOAD_TOO_LARGE',
        `${current ?? 'a file'} is larger than ${sizeText(fileLimit)}, the most one uploaded file may be`,
        { ...(current === undefined ? {} : { file: current }), limit: fileLimit },
      );
    }
    if (isAiosError(error) || (typeof code === 'string' && code.startsWith('FST_'))) throw error;
    // A system error (a full disk...) writing the files; anything else is the body's.
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw fromNodeIoError(error, dir);
    throw apiError(
      'INVALID_MULTIPART',
      `the upload is not a readable multipart/form-data body: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function unknownField(name: string) {
  return apiError(
    'INVALID_INPUT',
    `unknown field ${JSON.stringify(name)}: an upload has "file" parts and an optional "namespace" field`,
    { field: name },
  );
}

function namespaceField(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAMESPACE_LENGTH) {
    throw apiError(
      'INVALID_INPUT',
      `namespace: expected a non-empty string of at most ${MAX_NAMESPACE_LENGTH} characters`,
      { field: 'namespace' },
    );
  }
  return value;
}

/**
 * Moves the staged files to the namespace's directory, where they keep one path per name
 * from one upload to the next (so that ingesting a file again updates what it gave), and
 * returns their paths there.
 */
export async function placeUpload(upload: StagedUpload, target: string): Promise<string[]> {
  await rm(target, { recursive: true, force: true });
  await mkdir(dirname(target), { recursive: true });
  await rename(upload.dir, target);
  return upload.names.map((name) => join(target, ...name.split('/')));
}
