import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as core from '@mnist-lr/core';
import * as engine from '@mnist-lr/core/engine';
import { ROOT } from '../helpers/cluster.js';
import { findCycles, importGraph } from '../helpers/import-graph.js';

// Packages are used as their users use them: through their entry points (package.json `exports`),
// never by a path into another package's files, from a package's code or from these tests.

/** Every .ts and .mjs file under `dir`, recursively (node_modules and build output left out). */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'dist') return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return files(path);
    return /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module specifiers a file imports (import, export … from, import()). */
function specifiers(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

/** A specifier that reaches into a package's folder instead of naming its entry point. */
function intoPackage(from: string, spec: string): string | null {
  if (/^@mnist-lr\/[a-z-]+\/(src|dist)\//.test(spec)) return spec;
  if (!spec.startsWith('.')) return null;
  const target = relative(ROOT, join(from, '..', spec));
  const m = /^packages\/([a-z-]+)\//.exec(target);
  if (!m) return null;
  const own = /^packages\/([a-z-]+)\//.exec(relative(ROOT, from))?.[1];
  return m[1] === own ? null : target;
}

describe('entry points', () => {
  it('tells a reach into a package from an import of its entry point', () => {
    expect(intoPackage(join(ROOT, 'test/x/a.test.ts'), '../../packages/core/src/math/rng.js')).toBe('packages/core/src/math/rng.js');
    expect(intoPackage(join(ROOT, 'packages/cli/src/a.ts'), '../../coordinator/src/pool.js')).toBe('packages/coordinator/src/pool.js');
    expect(intoPackage(join(ROOT, 'packages/cli/src/a.ts'), './b.js')).toBeNull();
    expect(intoPackage(join(ROOT, 'test/x/a.test.ts'), '@mnist-lr/core/engine')).toBeNull();
    expect(intoPackage(join(ROOT, 'test/x/a.test.ts'), '@mnist-lr/core/src/index.js')).toBe('@mnist-lr/core/src/index.js');
  });

  it('are all the tests and packages import of one another (no path into another package\'s files)', () => {
    const reaches: string[] = [];
    for (const dir of ['test', 'packages', 'examples']) {
      for (const file of files(join(ROOT, dir))) {
        // Generators run by hand at development time (build-*.mjs), never shipped nor run by a
        // test, may reach into the sources they generate from.
        if (/\/build-[a-z-]+\.mjs$/.test(file)) continue;
        for (const spec of specifiers(file)) {
          const into = intoPackage(file, spec);
          if (into) reaches.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
    }
    expect(reaches).toEqual([]);
  });

  it('leave no import cycle among the tests and their helpers', () => {
    const graph = importGraph(join(ROOT, 'test'));
    expect(graph.unresolved).toEqual([]);
    expect(findCycles(graph.files)).toEqual([]);
  });
});

describe("core's surface", () => {
  it('is at most 40 names in its main entry, each in the library docs; the rest are the engine subpath\'s', () => {
    const source = readFileSync(join(ROOT, 'packages/core/src/index.ts'), 'utf8');
    const names = [...source.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1]!.split(',').map((n) => n.replace(/\btype\b/, '').trim()).filter(Boolean));
    expect(names.length).toBeLessThanOrEqual(40);
    expect(new Set(names).size).toBe(names.length);
    // Every value the entry exports is one of these names (types leave nothing at run time).
    for (const value of Object.keys(core)) expect(names).toContain(value);
    const docs = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
    const undocumented = names.filter((n) => !docs.includes(n));
    expect(undocumented).toEqual([]);
    // The engine subpath offers all of it, and the parts the sibling packages build on.
    for (const value of Object.keys(core)) expect(Object.keys(engine)).toContain(value);
    expect(Object.keys(engine).length).toBeGreaterThan(Object.keys(core).length);
    expect(engine.LocalGradientSource).toBeDefined();
  });
});
