// Regenerates kernel.wasm.ts (the module's bytes, base64) from kernel.wat with the `wabt`
// devDependency: `node src/math/wasm/build-wasm.mjs` in packages/core. The generated file is
// committed, so building and running need no assembler; kernel-wasm.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** The kernel's WebAssembly text. */
export function kernelSource() {
  return readFileSync(here('./kernel.wat'), 'utf8');
}

/** The module's bytes assembled from `source` (kernel.wat, or a variant of it). */
export async function assemble(source = kernelSource()) {
  const wabt = await wabtInit();
  // threads: the memory is shared (several instances in several threads read one data set).
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat('kernel.wat', source, features);
  try {
    mod.validate(features);
    return Uint8Array.from(mod.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

/** The text of a generated module file: `bytes` as the base64 string constant `name`. */
export function render(bytes, name = 'KERNEL_WASM_BASE64', by = 'build-wasm.mjs') {
  return (
    `// Generated from kernel.wat by ${by}; do not edit.\n` +
    '// prettier-ignore\n' +
    `export const ${name} =\n` +
    (Buffer.from(bytes).toString('base64').match(/.{1,100}/g) ?? []).map((l) => `  '${l}'`).join(' +\n') +
    ';\n'
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assemble();
  writeFileSync(here('./kernel.wasm.ts'), render(bytes));
  console.log(`kernel.wasm.ts: ${bytes.length} bytes`);
}
