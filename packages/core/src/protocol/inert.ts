/**
 * Text from a peer made inert before it reaches a terminal, a log file or a web page: a worker's
 * label, a close reason, an error that quotes what a peer sent. A peer holding the token could
 * otherwise forge log lines (a newline), recolour or retitle the terminal (escape sequences), or
 * reorder what a reader sees (Unicode bidirectional controls, as in "Trojan Source",
 * CVE-2021-42574).
 *
 * Control characters (C0, DEL, C1), bidirectional and other invisible format characters, and line
 * and paragraph separators are removed; tabs and line breaks become a space, so words stay apart.
 * The result is cut to `max` characters (code points, never half of a surrogate pair), with an
 * ellipsis when cut. HTML escaping stays the page's job: this makes text safe to print, not markup.
 */

/** Longest worker label shown (characters). */
export const LABEL_MAX = 64;
/** Longest peer text shown otherwise: a reason, a detail (characters). Default of inert(). */
export const TEXT_MAX = 200;

// \p{Cc}: C0, DEL and C1 controls. \p{Cf}: format characters (bidi embeddings, overrides and
// isolates, zero-width joiners, the BOM …). \p{Zl}\p{Zp}: U+2028, U+2029. Surrogates that do not
// form a pair (\p{Cs}) are dropped too: they are not text.
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/gu;
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/gu;

export function inert(text: string, max = TEXT_MAX): string {
  const clean = text.replace(BREAKS, ' ').replace(INVISIBLE, '');
  // Fast path: most text is short.
  if (clean.length <= max) return clean;
  const chars = Array.from(clean);
  return chars.length <= max ? clean : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}
