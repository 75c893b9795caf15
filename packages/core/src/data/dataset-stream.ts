/**
 * The dataset as one stream of bytes: each of the four decompressed IDX files (training images,
 * training labels, test images, test labels) preceded by its length as an 8-byte big-endian
 * integer. The dataset fingerprint is the SHA-256 of this stream, so that no two different lists
 * of files hash the same input, and the coordinator sends a browser worker this same stream
 * (gzipped): whoever receives it checks the fingerprint by hashing what it reads, and splits it
 * back into the files by the lengths.
 */
import { MnistLrError } from '../errors.js';
import { sha256 } from '../hash/sha256.js';

/** The 8-byte big-endian length that precedes a file of `length` bytes in the stream. */
export function lengthPrefix(length: number): Uint8Array {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(length), false);
  return prefix;
}

/** The stream of `files`, as the pieces to write one after another (prefix, file, prefix, …). */
export function datasetStream(files: readonly Uint8Array[]): Uint8Array[] {
  return files.flatMap((f) => [lengthPrefix(f.byteLength), f]);
}

/** sha256 hex of the stream of `files` (in the order given): the dataset fingerprint of these files. */
export function fingerprintOf(files: readonly Uint8Array[]): string {
  const hash = sha256();
  for (const piece of datasetStream(files)) hash.update(piece);
  return hash.hex();
}

/**
 * The files of a whole stream, as views into it: exactly `count` of them, filling it exactly.
 * `source` names where the stream came from, in the error (DATASET_MISMATCH) a damaged one gets.
 */
export function splitDatasetStream(stream: Uint8Array, count: number, source: string): Uint8Array[] {
  const files: Uint8Array[] = [];
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const length = at + 8 <= stream.length ? Number(view.getBigUint64(at, false)) : -1;
    if (length < 0 || at + 8 + length > stream.length) {
      throw new MnistLrError('DATASET_MISMATCH', `${source}: the dataset stream ends inside file ${i + 1} of ${count}; fetch it again`);
    }
    files.push(stream.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  if (at !== stream.length) throw new MnistLrError('DATASET_MISMATCH', `${source}: ${stream.length - at} bytes follow the ${count} files of the dataset stream; fetch it again`);
  return files;
}
