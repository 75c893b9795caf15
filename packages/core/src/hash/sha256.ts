/**
 * SHA-256 for the fingerprints (kernel, dataset, weights) in any JavaScript engine.
 *
 * Node, Bun and Deno hash natively through `node:crypto` (see runtime/builtin.ts: this module
 * imports nothing of Node's, and loads in a browser too). Browsers get @noble/hashes: Web Crypto's
 * digest is asynchronous and, on plain http beyond loopback (a phone opening a join link on the
 * local network), missing altogether. Both give the same digest; noble is about eight times
 * slower, which only a browser pays (55 MB of dataset in about 0.4 s).
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

import { nodeBuiltin } from '../runtime/builtin.js';

/** An incremental SHA-256. */
export interface Sha256 {
  update(bytes: Uint8Array): Sha256;
  /** The digest as 64 lowercase hex digits; the hash cannot be updated after. */
  hex(): string;
}

interface NodeHash {
  update(bytes: Uint8Array): unknown;
  digest(encoding: 'hex'): string;
}

type NodeCrypto = { createHash(algorithm: 'sha256'): NodeHash };

let native: NodeCrypto | null | undefined;

/** node:crypto where the engine has it (Node, Bun, Deno), else null (a browser). */
function nodeCrypto(): NodeCrypto | null {
  if (native === undefined) native = nodeBuiltin<NodeCrypto>('node:crypto');
  return native;
}

/** A fresh SHA-256: native where the engine has node:crypto, @noble/hashes elsewhere. */
export function sha256(): Sha256 {
  const crypto = nodeCrypto();
  if (crypto !== null) {
    const h = crypto.createHash('sha256');
    const hash: Sha256 = {
      update: (bytes) => (h.update(bytes), hash),
      hex: () => h.digest('hex'),
    };
    return hash;
  }
  return portableSha256();
}

/** The @noble/hashes SHA-256 (what a browser uses); exported for the test that compares both. */
export function portableSha256(): Sha256 {
  const h = nobleSha256.create();
  const hash: Sha256 = {
    update: (bytes) => (h.update(bytes), hash),
    hex: () => toHex(h.digest()),
  };
  return hash;
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
