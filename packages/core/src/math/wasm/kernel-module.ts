/**
 * The compiled kernel module (kernel.wat), compiled once per thread, and what can be asked of it
 * without a data set.
 */
import { KERNEL_WASM_BASE64 } from './kernel.wasm.js';
import { fixedSharedMemory, wasmApi } from './wasm-api.js';

let compiled: object | null | undefined;
const variants = new WeakMap<Uint8Array, object>();

/**
 * The module's bytes (atob: every engine has it, where Buffer is Node's). A plain loop over the
 * decoded string: Uint8Array.from with a mapping function calls it per byte through the iterator
 * protocol, several times slower, and this runs once per process and per worker thread.
 */
function moduleBytes(): Uint8Array {
  const text = atob(KERNEL_WASM_BASE64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The compiled module, or null where WebAssembly, its SIMD or shared memories are missing. */
export function kernelModule(): object | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  const wa = wasmApi();
  if (wa !== null) {
    // No WebAssembly.validate() first: it decodes the module once more, and a module this runtime
    // cannot run (no SIMD, say) makes the compilation throw, which leaves null as well.
    try {
      compiled = new wa.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Compiles the module off the calling thread (WebAssembly.compile), for kernelModule() to return
 * from then on: browsers ask for asynchronous compilation (a page's main thread may not compile a
 * module of this size synchronously), and a Web Worker stays responsive meanwhile. Resolves to
 * whether the module runs here.
 */
export async function compileKernelModule(): Promise<boolean> {
  if (compiled !== undefined) return compiled !== null;
  const wa = wasmApi();
  let module: object | null = null;
  if (wa !== null) {
    // As in kernelModule(): a module that does not compile here rejects, which leaves null.
    try {
      module = await wa.compile(moduleBytes());
    } catch {
      module = null;
    }
  }
  // A synchronous compilation meanwhile (kernelModule) settled it already.
  if (compiled === undefined) compiled = module;
  return compiled !== null;
}

/**
 * A variant of the module (KernelVariant.wasm: kernel.wat with exp and log imported), compiled
 * once per array of bytes.
 */
export function variantModule(bytes: Uint8Array): object {
  const wa = wasmApi();
  if (wa === null || kernelModule() === null) throw new Error('WebAssembly SIMD is not available');
  let module = variants.get(bytes);
  if (module === undefined) variants.set(bytes, (module = new wa.Module(bytes)));
  return module;
}

/** Whether this runtime can run the WebAssembly kernel (WebAssembly with 128-bit SIMD). */
export function wasmKernelAvailable(): boolean {
  return kernelModule() !== null;
}

/**
 * A fresh instance of the module over a shared memory of its own of `pages` 64 KiB pages, for a
 * caller that lays the memory out itself (the loader's sparsify.ts), or null where the module
 * cannot run.
 */
export function wasmInstance(pages: number): { exports: Record<string, unknown>; buffer: ArrayBufferLike } | null {
  const module = kernelModule();
  const wa = wasmApi();
  if (module === null || wa === null) return null;
  const memory = fixedSharedMemory(wa, pages);
  return { exports: new wa.Instance(module, { env: { memory } }).exports, buffer: memory.buffer };
}

/** The module's own exp and log (the functions the kernel calls), or null where it cannot run. */
export function wasmExpLog(): { exp: (x: number) => number; log: (x: number) => number } | null {
  const module = kernelModule();
  const wa = wasmApi();
  if (module === null || wa === null) return null;
  const instance = new wa.Instance(module, { env: { memory: fixedSharedMemory(wa, 1) } });
  return { exp: instance.exports.exp as (x: number) => number, log: instance.exports.log as (x: number) => number };
}
