/** The 10×10 confusion matrix as aligned text. */
import { int } from './format.js';

/**
 * `confusion[10·y + p]` counts images of digit y predicted as p. Rows are true digits, columns
 * predictions; the last column is each digit's share classified right.
 */
export function formatConfusion(confusion: ArrayLike<number>, classes = 10): string {
  let max = 0;
  for (let i = 0; i < classes * classes; i++) max = Math.max(max, confusion[i] ?? 0);
  const w = Math.max(int(max).length, 3);
  const cell = (s: string): string => s.padStart(w);
  const lines = [
    `true \\ predicted  ${Array.from({ length: classes }, (_, p) => cell(String(p))).join(' ')}    right`,
  ];
  for (let y = 0; y < classes; y++) {
    const row = Array.from({ length: classes }, (_, p) => confusion[classes * y + p] ?? 0);
    const total = row.reduce((a, b) => a + b, 0);
    const right = total > 0 ? `${((100 * (row[y] ?? 0)) / total).toFixed(1)}%` : '-';
    lines.push(`${String(y).padStart(16)}  ${row.map((v) => cell(int(v))).join(' ')}  ${right.padStart(7)}`);
  }
  return `${lines.join('\n')}\n`;
}
