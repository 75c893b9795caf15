/**
 * Node's built-in modules where the engine has them (Node, Bun, Deno), without importing any:
 * modules that every engine loads (the kernel, the protocol, the fingerprints) reach them through
 * process.getBuiltinModule (Node ≥ 20.16), so that a browser bundle of them has no `node:` import.
 */
type Process = { getBuiltinModule?: (id: string) => unknown };

/** The built-in module `id` ('node:crypto'), or null in an engine without Node's modules (a browser). */
export function nodeBuiltin<T>(id: string): T | null {
  const process = (globalThis as { process?: Process }).process;
  if (typeof process?.getBuiltinModule !== 'function') return null;
  return (process.getBuiltinModule(id) as T | undefined) ?? null;
}
