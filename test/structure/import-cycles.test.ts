import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cluster.js';
import { findCycles, importGraph } from '../helpers/import-graph.js';

// A module that imports, directly or not, a module that imports it cannot be read, tested or
// moved on its own; type-only imports count too, since they tie the files' meaning together.

const PACKAGES = readdirSync(join(ROOT, 'packages')).sort();

describe('the import graph', () => {
  it('finds the cycles it is shown (so that finding none means something)', () => {
    const edges = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(findCycles(edges)).toEqual([['a', 'b', 'c', 'a'], ['e', 'e']]);
    expect(findCycles(new Map([['a', ['b']], ['b', []]]))).toEqual([]);
  });

  it.each(PACKAGES)('of packages/%s/src has no cycle, and every relative import names a file', (pkg) => {
    const graph = importGraph(join(ROOT, 'packages', pkg, 'src'));
    expect(graph.unresolved).toEqual([]);
    // The graph was read: files import one another.
    expect([...graph.files.values()].flat().length).toBeGreaterThan(graph.files.size / 2);
    expect(findCycles(graph.files)).toEqual([]);
  });

  it('between packages points one way: cli → coordinator → watch → core, worker → core', () => {
    const uses = new Map<string, string[]>();
    for (const pkg of PACKAGES) {
      const imported = [...importGraph(join(ROOT, 'packages', pkg, 'src')).packages.values()].flat();
      const siblings = imported.filter((s) => s.startsWith('@mnist-lr/')).map((s) => s.split('/')[1]!);
      uses.set(pkg, [...new Set(siblings)].filter((p) => p !== pkg).sort());
    }
    expect(findCycles(uses)).toEqual([]);
    expect(uses.get('core')).toEqual([]);
    expect(uses.get('watch')).toEqual(['core']);
    expect(uses.get('coordinator')).toEqual(['core', 'watch']);
    expect(uses.get('worker')).toEqual(['core']);
    expect(uses.get('cli')).toEqual(['coordinator', 'core', 'watch', 'worker']);
  });
});
