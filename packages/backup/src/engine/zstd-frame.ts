/**
 * Reads the content size a zstd frame header declares (RFC 8878, 3.1.1.1), without
 * decompressing. The wasm decoder allocates whatever the header says, so a damaged header
 * is caught here, before it can ask for gigabytes. Returns undefined when the header is not
 * a zstd frame header or does not declare a size.
 */
export function zstdContentSize(frame: Uint8Array): number | undefined {
  if (frame.length < 6) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (view.getUint32(0, true) !== 0xfd2fb528) return undefined;
  const descriptor = frame[4] as number;
  const fcsFlag = descriptor >>> 6;
  const singleSegment = (descriptor >>> 5) & 1;
  const dictFlag = descriptor & 3;
  if ((descriptor >>> 3) & 1) return undefined; // reserved bit must be zero
  let pos = 5;
  if (!singleSegment) pos += 1;
  pos += [0, 1, 2, 4][dictFlag] as number;
  const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : ([1, 2, 4, 8][fcsFlag] as number);
  if (fcsSize === 0 || pos + fcsSize > frame.length) return undefined;
  switch (fcsSize) {
    case 1:
      return view.getUint8(pos);
    case 2:
      return view.getUint16(pos, true) + 256;
    case 4:
      return view.getUint32(pos, true);
    default:
      return Number(view.getBigUint64(pos, true));
  }
}
