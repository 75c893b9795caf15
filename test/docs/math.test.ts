import { describe, expect, it } from 'vitest';
import { docFiles, readDoc, withoutFences } from '../helpers/markdown.js';

// The math of the docs as GitHub renders it: `$…$` inline and `$$…$$` blocks are read as
// Markdown first, so a backslash before punctuation (`\,`, `\{`, `\\` inside a line) loses its
// backslash before MathJax sees it, a blank line ends a block, an inline formula cannot span
// lines, and `<x` may be taken for an HTML tag. Each formula must also balance its braces and
// its \begin and \end.

interface Formula {
  line: number;
  tex: string;
  display: boolean;
}

/** The formulas of a document outside code, and what is wrong with how they are written. */
function formulas(text: string): { found: Formula[]; problems: string[] } {
  const found: Formula[] = [];
  const problems: string[] = [];
  let block: Formula | null = null;
  withoutFences(text)
    .split('\n')
    .forEach((raw, i) => {
      const line = i + 1;
      if (raw.trim() === '$$') {
        if (block === null) block = { line, tex: '', display: true };
        else {
          found.push(block);
          block = null;
        }
        return;
      }
      if (block !== null) {
        if (raw.trim() === '') problems.push(`line ${line}: a blank line inside the $$ block of line ${block.line}`);
        if (/\\\\./.test(raw.trimEnd())) problems.push(`line ${line}: \\\\ inside a line of a $$ block (only at a line's end)`);
        block.tex += `${raw}\n`;
        return;
      }
      const plain = raw.replace(/`[^`]*`/g, '');
      if (plain.includes('$$')) problems.push(`line ${line}: $$ inside a line (put it on a line of its own)`);
      const dollars = [...plain.matchAll(/(?<!\\)\$/g)].map((m) => m.index);
      if (dollars.length % 2 !== 0) problems.push(`line ${line}: an inline formula opens and does not close on this line`);
      for (let k = 0; k + 1 < dollars.length; k += 2) found.push({ line, tex: plain.slice(dollars[k]! + 1, dollars[k + 1]), display: false });
    });
  if (block !== null) problems.push(`line ${(block as Formula).line}: a $$ block that never closes`);
  for (const f of found) {
    const tex = f.display ? f.tex.replace(/\\\\\s*$/gm, '') : f.tex;
    const eaten = /\\[!-/:-@[\]^_`{|}~]/.exec(tex);
    if (eaten) problems.push(`line ${f.line}: ${eaten[0]} loses its backslash to Markdown (write \\lbrace, \\rbrace, \\Vert, or drop the spacing)`);
    if (/<[A-Za-z/!]/.test(tex)) problems.push(`line ${f.line}: "<" before a letter reads as HTML (write \\lt)`);
    let depth = 0;
    for (const c of tex.replace(/\\[{}]/g, '')) {
      if (c === '{') depth++;
      if (c === '}' && --depth < 0) break;
    }
    if (depth !== 0) problems.push(`line ${f.line}: unbalanced braces in ${tex.trim()}`);
    const begins = [...tex.matchAll(/\\begin\{(\w+\*?)\}/g)].map((m) => m[1]);
    const ends = [...tex.matchAll(/\\end\{(\w+\*?)\}/g)].map((m) => m[1]);
    if (begins.join() !== ends.reverse().join()) problems.push(`line ${f.line}: \\begin and \\end do not pair up`);
  }
  return { found, problems };
}

describe('math in the docs, as GitHub renders it', () => {
  it('the checker finds what it is shown', () => {
    const bad = ['a $x \\, y$ and $z', '$$', 'v \\\\ w', '', '\\frac{a}{b', '$$', 'ok $a \\lt b$, `$not math`', '$$', 'x'].join('\n');
    expect(formulas(bad).problems).toEqual([
      'line 1: an inline formula opens and does not close on this line',
      'line 3: \\\\ inside a line of a $$ block (only at a line\'s end)',
      'line 4: a blank line inside the $$ block of line 2',
      'line 8: a $$ block that never closes',
      'line 1: \\, loses its backslash to Markdown (write \\lbrace, \\rbrace, \\Vert, or drop the spacing)',
      'line 2: unbalanced braces in v \\\\ w\n\n\\frac{a}{b',
    ]);
  });

  it('every formula of the README, docs/ and the packages\' READMEs is written so that it renders', () => {
    let count = 0;
    const problems: string[] = [];
    for (const f of docFiles()) {
      const r = formulas(readDoc(f));
      count += r.found.length;
      problems.push(...r.problems.map((p) => `${f}: ${p}`));
    }
    expect(problems).toEqual([]);
    // The derivation alone holds dozens; a checker that found none would check nothing.
    expect(count).toBeGreaterThan(50);
  });
});
