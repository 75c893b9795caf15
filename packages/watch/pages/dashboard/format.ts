/** Number and time formats of the page. */
export const num = (n: number): string => n.toLocaleString('en-US');

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** "14:03:07", local time. */
export const clock = (ms: number): string => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

/** "4m05s", "…" while unknown: the same format as the terminal's ETA. */
export { formatEta as duration } from '../../src/monitor/eta.js';
