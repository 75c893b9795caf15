import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, docFiles, links, readDoc, ROOT, slug, type Link } from '../helpers/markdown.js';

// Every link of the README, docs/ and the packages' READMEs leads somewhere: a relative link names
// a file or folder of the repository, and its #anchor a heading of that file, by GitHub's slug.
// Links to this repository's own files on GitHub (what the packages' READMEs use, since npm shows
// them away from the repository) are checked the same way against the files here.

/** `https://github.com/OWNER/NAME/` of the packages' `repository` field. */
const REPOSITORY = (JSON.parse(readFileSync(join(ROOT, 'packages/core/package.json'), 'utf8')) as { repository: { url: string } }).repository.url
  .replace(/^git\+/, '')
  .replace(/\.git$/, '/');
const ON_GITHUB = new RegExp(`^${REPOSITORY.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?:blob|tree)/main/`);

/** What is wrong with a link of the document `from` (a path from the root) whose text is `text`, or undefined when it leads somewhere. */
function broken(from: string, text: string, link: Link): string | undefined {
  let target = link.target;
  if (ON_GITHUB.test(target)) target = `/${target.replace(ON_GITHUB, '')}`;
  else if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // another site, mailto:
  const hash = target.indexOf('#');
  const path = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const file = path === '' ? from : path.startsWith('/') ? normalize(path.slice(1)) : normalize(join(dirname(from), decodeURIComponent(path)));
  if (file.startsWith('..') || relative(ROOT, join(ROOT, file)).startsWith('..')) return `${link.target} leaves the repository`;
  if (!existsSync(join(ROOT, file))) return `${link.target}: ${file} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!file.endsWith('.md') || statSync(join(ROOT, file)).isDirectory()) return `${link.target}: an anchor into ${file}, which is not a markdown file`;
  const known = anchors(path === '' ? text : readDoc(file));
  return known.has(anchor) ? undefined : `${link.target}: ${file} has no heading whose anchor is #${anchor}`;
}

/** Every broken link of a document, as `file:line: what`. */
function brokenLinks(from: string, text: string): string[] {
  return links(text).flatMap((l) => {
    const why = broken(from, text, l);
    return why === undefined ? [] : [`${from}:${l.line}: ${why}`];
  });
}

describe('links in the README, docs/ and the packages\' READMEs', () => {
  it('the checker finds what it is shown: a missing file, a missing anchor, a link out of the repository', () => {
    expect(slug('Who may compute: `--verify`')).toBe('who-may-compute---verify');
    expect(slug('`@mnist-lr/core`')).toBe('mnist-lrcore');
    expect(slug('Exporting for NumPy and ONNX Runtime')).toBe('exporting-for-numpy-and-onnx-runtime');
    expect(slug('The `config_1` _table_ of **2⁻²⁴**')).toBe('the-config_1-table-of-2²⁴');
    expect([...anchors('# A\n## A\n```sh\n# not a heading\n```\n## B #\n')]).toEqual(['a', 'a-1', 'b']);
    const text = [
      '[ok](README.md#commands) [self](#here) `[in code](nowhere.md)`',
      '[gone](docs/nowhere.md) [no anchor](README.md#nowhere)',
      '[out](../../etc/passwd) ![img](assets/dashboard.png) [site](https://example.com/x#y)',
      `[ours](${REPOSITORY}blob/main/docs/nowhere.md)`,
      '```md',
      '[fenced](nowhere.md)',
      '```',
      '## Here',
    ].join('\n');
    expect(brokenLinks('README.md', text)).toEqual([
      'README.md:2: docs/nowhere.md: docs/nowhere.md does not exist',
      'README.md:2: README.md#nowhere: README.md has no heading whose anchor is #nowhere',
      'README.md:3: ../../etc/passwd leaves the repository',
      `README.md:4: ${REPOSITORY}blob/main/docs/nowhere.md: docs/nowhere.md does not exist`,
    ]);
  });

  it('every relative link names a file of the repository, and every #anchor a heading of it', () => {
    const files = docFiles();
    expect(files.length).toBeGreaterThanOrEqual(12);
    let checked = 0;
    const problems: string[] = [];
    for (const f of files) {
      const text = readDoc(f);
      checked += links(text).length;
      problems.push(...brokenLinks(f, text));
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('the README links every page of docs/', () => {
    const linked = new Set(links(readDoc('README.md')).map((l) => l.target.replace(/#.*$/, '')));
    const pages = docFiles().filter((f) => f.startsWith('docs/'));
    expect(pages.length).toBeGreaterThanOrEqual(10);
    expect(pages.filter((p) => !linked.has(p))).toEqual([]);
  });

  it('a package\'s README, shown by npm away from the repository, links only absolute addresses', () => {
    const relativeLinks = docFiles()
      .filter((f) => f.startsWith('packages/'))
      .flatMap((f) => links(readDoc(f)).filter((l) => !/^[a-z]+:/i.test(l.target)).map((l) => `${f}:${l.line}: ${l.target}`));
    expect(relativeLinks).toEqual([]);
  });
});
