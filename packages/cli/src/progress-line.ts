/**
 * The progress line, fitted to the terminal's width:
 *
 *   epoch 3/15 |████████░░░░| 45% | 2,700/6,000 steps | 12,345 steps/s | ETA 12s, run 3m05s | 2 workers
 *
 * The bar takes what the text leaves, up to 30 columns. When even a 10-column bar does not fit,
 * the least useful parts go first (the step counts, the speed, the workers, the run's ETA), then
 * the bar itself; the epoch, the percentage and the epoch's ETA always stay.
 */
import { formatEta } from '@mnist-lr/watch/monitor';

import { int } from './outputs/format.js';

export interface LineState {
  epoch: number;
  epochs: number;
  /** 0..1 of the epoch. */
  progress: number;
  done: number;
  steps: number;
  /** Steps per second, or null while unknown. */
  speed: number | null;
  etaEpoch: number | null;
  etaRun: number | null;
  /** Connected workers, or null for a run without workers. */
  workers: number | null;
}

const BAR_MIN = 10;
const BAR_MAX = 30;

export function progressLine(s: LineState, width: number): string {
  const head = `epoch ${s.epoch}/${s.epochs}`;
  const percent = `${Math.floor(s.progress * 100)}%`;
  const optional: Array<[key: string, text: string]> = [
    ['steps', `${int(s.done)}/${int(s.steps)} steps`],
    ['speed', `${s.speed === null ? '…' : int(Math.round(s.speed))} steps/s`],
    ['eta', `ETA ${formatEta(s.etaEpoch)}, run ${formatEta(s.etaRun)}`],
    ['workers', s.workers === null ? '' : `${s.workers} worker${s.workers === 1 ? '' : 's'}`],
  ];
  // Dropped first to last when the line does not fit.
  const dropOrder = ['steps', 'speed', 'workers'];
  // Keep one column free: a line exactly as wide as the terminal wraps on some terminals.
  const room = Math.max(0, width - 1);
  const compose = (parts: Array<[string, string]>, barWidth: number): string => {
    const tail = [percent, ...parts.filter(([, t]) => t !== '').map(([, t]) => t)].join(' | ');
    return barWidth > 0 ? `${head} |${bar(s.progress, barWidth)}| ${tail}` : `${head} ${tail}`;
  };
  let parts = optional;
  for (let drop = 0; ; drop++) {
    const textOnly = compose(parts, 0).length + 3; // " |" and "|" around the bar
    const barWidth = Math.min(BAR_MAX, room - textOnly);
    if (barWidth >= BAR_MIN) return compose(parts, barWidth);
    if (drop >= dropOrder.length) break;
    parts = parts.filter(([k]) => k !== dropOrder[drop]);
  }
  // No room for a bar: the short ETA, and the text cut to the width if it must be.
  const short = `${head} ${percent} | ETA ${formatEta(s.etaEpoch)}, run ${formatEta(s.etaRun)}`;
  const line = compose(parts, 0).length <= room ? compose(parts, 0) : short;
  return line.length <= room ? line : line.slice(0, room);
}

function bar(progress: number, width: number): string {
  const full = Math.max(0, Math.min(width, Math.round(progress * width)));
  return '\u2588'.repeat(full) + '\u2591'.repeat(width - full);
}
