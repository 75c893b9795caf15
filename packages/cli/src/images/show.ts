/** Drawing a 28×28 image in a terminal, so a user sees what the model saw. */
import { MNIST_SIDE } from '@mnist-lr/core/engine';

/** Five shades, from background to full ink. */
const SHADES = [' ', '░', '▒', '▓', '█'] as const;

/**
 * The image as 28 lines of block characters inside a frame, two characters per pixel so that it
 * keeps its square shape in a terminal cell grid.
 */
export function blocks(image: Uint8Array): string {
  const rule = '─'.repeat(2 * MNIST_SIDE);
  const lines = [`┌${rule}┐`];
  for (let y = 0; y < MNIST_SIDE; y++) {
    let line = '';
    for (let x = 0; x < MNIST_SIDE; x++) {
      const v = image[y * MNIST_SIDE + x]!;
      const shade = SHADES[v === 0 ? 0 : Math.min(4, 1 + Math.floor((v * 4) / 256))]!;
      line += shade + shade;
    }
    lines.push(`│${line}│`);
  }
  lines.push(`└${rule}┘`);
  return lines.join('\n');
}
