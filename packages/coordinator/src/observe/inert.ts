/**
 * Text that came from a peer (a worker's label, a close reason), made safe to show anywhere:
 * control characters (C0, DEL, C1) and the bidirectional overrides that can reorder a line are
 * written out as visible \xNN / \uNNNN escapes, and the length is bounded. HTML is not escaped
 * here: the page only ever sets text (textContent), and JSON needs no escaping of '<'.
 */
export function inertText(text: string, max = 80): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n++ >= max) return `${out}…`;
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0x200e || c === 0x200f) out += `\\u${c.toString(16)}`;
    else out += ch;
  }
  return out;
}
