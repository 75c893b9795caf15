// Regenerates kernel.wasm.ts (the module's bytes, base64) from kernel.wat with the `wabt`
// devDependency: `node src/math/wasm/build-wasm.mjs` in packages/core. The generated file is
// committed, so building and running need no assembler; kernel-wasm.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** The module's bytes assembled from kernel.wat. */
export async function assemble() {
  const wabt = await wabtInit();
  const source = readFileSync(here('./kernel.wat'), 'utf8');
  const mod = wabt.parseWat('kernel.wat', source, { simd: true });
  try {
    mod.validate();
    return Uint8Array.from(mod.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

/** The text of kernel.wasm.ts for `bytes`. */
export function render(bytes) {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,100}/g) ?? [];
  return (
    '// Generated from kernel.wat by build-wasm.mjs; do not edit.\n' +
    '// prettier-ignore\n' +
    'export const KERNEL_WASM_BASE64 =\n' +
    lines.map((l) => `  '${l}'`).join(' +\n') +
    ';\n'
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assemble();
  writeFileSync(here('./kernel.wasm.ts'), render(bytes));
  console.log(`kernel.wasm.ts: ${bytes.length} bytes`);
}
