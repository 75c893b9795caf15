/**
 * The parts of the WebAssembly JS API the kernel uses (lib.dom has them; this package compiles
 * without it), and the runtime's WebAssembly object, if it has one.
 */
export interface WasmMemory {
  /** A SharedArrayBuffer for a shared memory (all of the kernel's are). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Adds `pages` pages of 64 KiB; returns the size before, in pages. Throws past the maximum. */
  grow(pages: number): number;
}

export interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

/** Bytes in a WebAssembly page. */
export const PAGE = 65536;

export function wasmApi(): WasmApi | null {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly ?? null;
}

/** A shared memory of exactly `pages` pages that cannot grow. */
export function fixedSharedMemory(wa: WasmApi, pages: number): WasmMemory {
  return new wa.Memory({ initial: pages, maximum: pages, shared: true });
}
