/**
 * `mnist-lr predict`: classify image files with a saved model.
 *
 * Every file is tried; a file that cannot be used is reported (a coded error naming it, and an
 * entry with the error under --json) and the command ends with exit code 2 after the others.
 */
import { readFileSync } from 'node:fs';

import { isMnistLrError, loadModel, modelInput, predict, predictProba, MnistLrError, type FitMode } from '@mnist-lr/core/engine';

import { asUsage, formatError, markUsage } from '../errors.js';
import { decodeImage } from '../images/decode.js';
import { blocks } from '../images/show.js';
import { topClasses } from '../images/top.js';
import { displayPath } from '../outputs/format.js';

export interface PredictCommandOptions {
  /** Path of a model file written by `mnist-lr train`. */
  model: string;
  /** PNG, JPEG or IDX files. */
  images: string[];
  /** One JSON array on stdout instead of lines. */
  json?: boolean;
  /** Also draw each image as the model saw it (28×28, block characters). */
  show?: boolean;
  /** How much of MNIST's preprocessing to apply; default `auto` (see core's `preprocess`). */
  fit?: FitMode;
}

/** One image's answer, as --json prints it. */
export interface PredictEntry {
  file: string;
  /** Position in an IDX file holding several images. */
  index?: number;
  label?: number;
  probabilities?: number[];
  error?: { code: string; message: string };
}

/** Files larger than this are not images of a digit (a 4096×4096 RGBA PNG is 64 MiB raw). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export function predictCommand(
  options: PredictCommandOptions,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): PredictEntry[] {
  const model = asUsage(() => loadModel(options.model));
  const entries: PredictEntry[] = [];
  let failed: MnistLrError | undefined;
  for (const file of options.images) {
    try {
      for (const image of decodeImage(readImageFile(file), displayPath(file))) {
        const name = image.index === undefined ? image.file : `${image.file}[${image.index}]`;
        const input = modelInput(image.raster, { fit: options.fit, name });
        const label = predict(model, input);
        const probabilities = predictProba(model, input);
        const entry: PredictEntry = { file: image.file, ...(image.index === undefined ? {} : { index: image.index }), label, probabilities: Array.from(probabilities) };
        entries.push(entry);
        if (!options.json) {
          const top = topClasses(probabilities, label, 3).map((r) => `${r.label} ${r.probability.toFixed(4)}`);
          stdout.write(`${name}  ${top.join('   ')}\n`);
          if (options.show) stdout.write(`${blocks(input)}\n`);
        }
      }
    } catch (e) {
      if (!isMnistLrError(e)) throw e;
      failed = markUsage(e);
      entries.push({ file: displayPath(file), error: { code: e.code, message: e.message } });
      stderr.write(`${formatError(e)}\n`);
    }
  }
  if (options.json) stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
  // Reported above; the exit code still says that not every file was read.
  if (failed !== undefined) process.exitCode = 2;
  return entries;
}

function readImageFile(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new MnistLrError('FILE_UNREADABLE', `${displayPath(file)}: cannot read it (${why})`, { cause: e });
  }
  if (bytes.length > MAX_FILE_BYTES) {
    throw new MnistLrError('IMAGE_BAD', `${displayPath(file)}: ${bytes.length} bytes is more than an image of a digit needs (at most ${MAX_FILE_BYTES}); scale it down first`);
  }
  return bytes;
}
