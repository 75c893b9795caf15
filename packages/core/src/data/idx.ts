/**
 * Reading IDX files from disk, gzipped or not; the format's parser is idx-parse.ts.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { MnistLrError } from '../errors.js';
import { parseIdx, REMEDY, type IdxArray } from './idx-parse.js';

// The parser loads in any engine; reading files is Node's (this module).
export { parseIdx, type IdxArray } from './idx-parse.js';

/**
 * Reads a file and gunzips it if it starts with the gzip magic 1f 8b. Detection is by content,
 * not extension, because people rename files; a real IDX file starts with 00 00 so the two
 * cannot be confused. Returns the full decompressed IDX bytes (header included), which is what
 * the dataset fingerprint is computed over.
 * Throws MnistLrError FILE_UNREADABLE / IDX_BAD_GZIP.
 */
export function readIdxBytes(path: string): Uint8Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new MnistLrError(
      'FILE_UNREADABLE',
      `${path}: cannot read file (${reason}); check the path and permissions or point --data-dir at the MNIST files`,
      { cause },
    );
  }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new MnistLrError(
        'IDX_BAD_GZIP',
        `${path}: looks gzipped but cannot be decompressed (${reason}); ${REMEDY}`,
        { cause },
      );
    }
  }
  // Plain Uint8Array view (no copy) so callers never see Buffer-specific behaviour.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Reads (and if gzipped, inflates) an IDX file and parses it. */
export function readIdxFile(path: string): IdxArray {
  return parseIdx(readIdxBytes(path), path);
}
