/**
 * The import graph of a package's sources, read with TypeScript's own pre-processor (every
 * `import`, `export … from` and `import()`, type-only ones included), and the cycles in a graph.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** File (relative to `root`) → the files it imports, and the package specifiers it imports. */
export interface ImportGraph {
  files: Map<string, string[]>;
  packages: Map<string, string[]>;
  /** Relative imports that name no file: a resolver that misses files would hide cycles. */
  unresolved: string[];
}

/** Every .ts file under `dir`, recursively, as absolute paths. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The import graph of the .ts files under `root` (a package's src/). */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = { files: new Map(), packages: new Map(), unresolved: [] };
  for (const file of sources(root)) {
    const name = relative(root, file);
    const local: string[] = [];
    const external: string[] = [];
    for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!spec.startsWith('.')) {
        external.push(spec);
        continue;
      }
      // NodeNext: sources import './x.js', which is './x.ts' here.
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      if (existsSync(target)) local.push(relative(root, target));
      else graph.unresolved.push(`${name} → ${spec}`);
    }
    graph.files.set(name, local);
    graph.packages.set(name, external);
  }
  return graph;
}

/** Every cycle of `edges`, each once, as the list of its nodes (first node repeated at the end). */
export function findCycles(edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (s === undefined) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}
