import { invalidInput } from '@aios/utils';
import { GEAR_HI, GEAR_LO, MASKS_HI, MASKS_LO } from './gear.js';

/**
 * FastCDC 2020 (normalization level 1, seed 0), the algorithm of the `fastcdc` crate's
 * `v2020` module, ported so that the js implementation cuts exactly where the native one
 * does. The 64-bit gear hash is kept as two unsigned 32-bit halves.
 */

/** Chunk size bounds in bytes; stored in the repository config. */
export interface ChunkerParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
}

// The bounds the `fastcdc` crate accepts.
const MINIMUM_MIN = 64;
const MINIMUM_MAX = 1_048_576;
const AVERAGE_MIN = 256;
const AVERAGE_MAX = 4_194_304;
const MAXIMUM_MIN = 1024;
const MAXIMUM_MAX = 16_777_216;

export function validateChunkerParams(p: ChunkerParams, field = 'chunker'): ChunkerParams {
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
  if (
    !p ||
    !int(p.minSize) ||
    !int(p.avgSize) ||
    !int(p.maxSize) ||
    p.minSize < MINIMUM_MIN ||
    p.minSize > MINIMUM_MAX ||
    p.avgSize < AVERAGE_MIN ||
    p.avgSize > AVERAGE_MAX ||
    p.maxSize < MAXIMUM_MIN ||
    p.maxSize > MAXIMUM_MAX ||
    p.minSize > p.avgSize ||
    p.avgSize > p.maxSize
  ) {
    throw invalidInput(
      field,
      p,
      `{ minSize in [${MINIMUM_MIN}, ${MINIMUM_MAX}], avgSize in [${AVERAGE_MIN}, ${AVERAGE_MAX}], maxSize in [${MAXIMUM_MIN}, ${MAXIMUM_MAX}] } with minSize <= avgSize <= maxSize`,
    );
  }
  return p;
}

const GEAR_LS_HI = new Uint32Array(256);
const GEAR_LS_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  const hi = GEAR_HI[i] as number;
  const lo = GEAR_LO[i] as number;
  GEAR_LS_HI[i] = ((hi << 1) | (lo >>> 31)) >>> 0;
  GEAR_LS_LO[i] = (lo << 1) >>> 0;
}

/** The masks for one parameter set (small/large, and their left-shifted twins). */
export interface Masks {
  sHi: number;
  sLo: number;
  lHi: number;
  lLo: number;
  sLsHi: number;
  sLsLo: number;
  lLsHi: number;
  lLsLo: number;
}

export function masksFor(params: ChunkerParams): Masks {
  const bits = Math.round(Math.log2(params.avgSize));
  const sHi = MASKS_HI[bits + 1] as number;
  const sLo = MASKS_LO[bits + 1] as number;
  const lHi = MASKS_HI[bits - 1] as number;
  const lLo = MASKS_LO[bits - 1] as number;
  return {
    sHi,
    sLo,
    lHi,
    lLo,
    sLsHi: ((sHi << 1) | (sLo >>> 31)) >>> 0,
    sLsLo: (sLo << 1) >>> 0,
    lLsHi: ((lHi << 1) | (lLo >>> 31)) >>> 0,
    lLsLo: (lLo << 1) >>> 0,
  };
}

/**
 * Length of the next chunk of `buf[start, end)`: `fastcdc::v2020::cut_gear`, line for line.
 */
export function cut(
  buf: Uint8Array,
  start: number,
  end: number,
  params: ChunkerParams,
  m: Masks,
): number {
  let remaining = end - start;
  if (remaining <= params.minSize) return remaining;
  let center = params.avgSize;
  if (remaining > params.maxSize) remaining = params.maxSize;
  else if (remaining < center) center = remaining;
  let index = Math.floor(params.minSize / 2);
  let hi = 0;
  let lo = 0;
  const centerHalf = Math.floor(center / 2);
  const remainingHalf = Math.floor(remaining / 2);
  while (index < centerHalf) {
    const a = start + index * 2;
    let b = buf[a] as number;
    hi = ((hi << 2) | (lo >>> 30)) >>> 0;
    lo = (lo << 2) >>> 0;
    let sum = lo + (GEAR_LS_LO[b] as number);
    lo = sum >>> 0;
    hi = (hi + (GEAR_LS_HI[b] as number) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    if (((lo & m.sLsLo) | (hi & m.sLsHi)) === 0) return index * 2;
    b = buf[a + 1] as number;
    sum = lo + (GEAR_LO[b] as number);
    lo = sum >>> 0;
    hi = (hi + (GEAR_HI[b] as number) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    if (((lo & m.sLo) | (hi & m.sHi)) === 0) return index * 2 + 1;
    index++;
  }
  while (index < remainingHalf) {
    const a = start + index * 2;
    let b = buf[a] as number;
    hi = ((hi << 2) | (lo >>> 30)) >>> 0;
    lo = (lo << 2) >>> 0;
    let sum = lo + (GEAR_LS_LO[b] as number);
    lo = sum >>> 0;
    hi = (hi + (GEAR_LS_HI[b] as number) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    if (((lo & m.lLsLo) | (hi & m.lLsHi)) === 0) return index * 2;
    b = buf[a + 1] as number;
    sum = lo + (GEAR_LO[b] as number);
    lo = sum >>> 0;
    hi = (hi + (GEAR_HI[b] as number) + (sum > 0xffffffff ? 1 : 0)) >>> 0;
    if (((lo & m.lLo) | (hi & m.lHi)) === 0) return index * 2 + 1;
    index++;
  }
  return remaining;
}

/** `[offset, length]` of every chunk of a whole buffer. */
export function boundaries(data: Uint8Array, params: ChunkerParams): Array<[number, number]> {
  const m = masksFor(params);
  const out: Array<[number, number]> = [];
  let start = 0;
  while (start < data.length) {
    const count = cut(data, start, data.length, params, m);
    out.push([start, count]);
    start += count;
  }
  return out;
}
