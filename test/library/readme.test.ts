import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cluster.js';
import { EXAMPLES } from '../helpers/examples.js';
import { docFiles, readDoc } from '../helpers/markdown.js';

// The library's documentation is kept true by this file: docs/library.md and the packages'
// READMEs quote the examples (every quoted block is lines of its file), docs/library.md lists every
// example, which is run, and every name it lists is exported, with TSDoc, by the package it is
// listed under (read from the built declarations, as a user's editor reads them).

const LIBRARY = readDoc('docs/library.md');

describe('the library\'s docs', () => {
  it('quote the examples: each block marked with an example is a run of consecutive lines of its file', () => {
    let quoted = 0;
    for (const doc of docFiles()) {
      for (const [, path, text] of readDoc(doc).matchAll(/<!-- example: (\S+) -->\n```js\n([\s\S]*?)\n```/g)) {
        const file = readFileSync(join(ROOT, path!), 'utf8');
        expect(`\n${file}`, `${path} no longer contains ${doc}'s excerpt of it`).toContain(`\n${text}\n`);
        quoted++;
      }
    }
    expect(quoted).toBeGreaterThanOrEqual(6);
  });

  it('lists every example, and the examples test runs every one', () => {
    const tested = readFileSync(join(ROOT, 'test/library/examples.test.ts'), 'utf8');
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.mjs'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      expect(LIBRARY, `docs/library.md does not list examples/${f}`).toContain(`(../examples/${f})`);
      expect(tested, `examples.test.ts does not run ${f}`).toContain(`example('${f}')`);
    }
  });

  it.each(['core', 'coordinator', 'worker', 'watch'])('names only exports of @mnist-lr/%s, each with TSDoc', (pkg) => {
    const start = LIBRARY.indexOf(`\n## \`@mnist-lr/${pkg}\``);
    expect(start).toBeGreaterThan(0);
    const end = LIBRARY.indexOf('\n## ', start + 1);
    const section = LIBRARY.slice(start, end < 0 ? undefined : end);
    // First cells of the "export" table: `train(options)`, `Coordinator.start(options)`, `.port`.
    const table = section.slice(section.indexOf('| export |')).split('\n\n')[0]!;
    const names = [...table.matchAll(/^\| ([^|]+) \|/gm)]
      .slice(1)
      .flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((n) => n[1]!));
    const declared = exportsOf(join(ROOT, `packages/${pkg}/dist/index.d.ts`));
    let owner = '';
    let checked = 0;
    for (const raw of names) {
      const name = raw.replace(/\(.*$/, '');
      let doc: string | undefined;
      if (name.startsWith('.') || name.startsWith('coordinator.')) {
        doc = declared.member(owner, name.replace(/^(coordinator)?\./, ''));
      } else if (name.includes('.')) {
        const [cls, member] = name.split('.') as [string, string];
        owner = cls;
        doc = declared.member(cls, member);
      } else {
        expect(declared.has(name), `@mnist-lr/${pkg} does not export ${name}`).toBe(true);
        doc = declared.doc(name);
      }
      expect(doc, `${raw} in @mnist-lr/${pkg} has no TSDoc`).toBeTruthy();
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });
});

/** The exports of a built entry point and their documentation, through the TypeScript checker. */
function exportsOf(file: string): { has(name: string): boolean; doc(name: string): string | undefined; member(cls: string, name: string): string | undefined } {
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const symbols = new Map(checker.getExportsOfModule(module).map((s) => [s.name, resolve(s)]));
  const text = (s: ts.Symbol | undefined): string | undefined => (s ? ts.displayPartsToString(s.getDocumentationComment(checker)).trim() || undefined : undefined);
  return {
    has: (name) => symbols.has(name),
    doc: (name) => text(symbols.get(name)),
    member: (cls, name) => {
      const c = symbols.get(cls);
      return text(c?.exports?.get(name as ts.__String) ?? c?.members?.get(name as ts.__String));
    },
  };
}
