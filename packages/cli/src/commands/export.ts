/** `mnist-lr export`: a saved model in a format other tools read (ONNX, NumPy .npz, plain JSON). */
import { extname } from 'node:path';

import { loadModel, writeFileAtomic } from '@mnist-lr/core/engine';

import { asUsage, badOption } from '../errors.js';
import { EXPORT_FORMATS, type ExportFormat } from '../options.js';
import { toWeightsJson } from '../export/json.js';
import { toNpz } from '../export/npz.js';
import { toOnnx } from '../export/onnx.js';
import { displayPath } from '../outputs/format.js';


export interface ExportCommandOptions {
  /** Path of a model file written by `mnist-lr train`. */
  model: string;
  /** Default: from the extension of `out` (.onnx, .npz, .json). */
  format?: ExportFormat;
  out: string;
}

export function exportCommand(options: ExportCommandOptions, stdout: NodeJS.WritableStream = process.stdout): ExportFormat {
  const format = options.format ?? formatOf(options.out);
  const model = asUsage(() => loadModel(options.model));
  const bytes = format === 'onnx' ? toOnnx(model) : format === 'npz' ? toNpz(model.weights) : toWeightsJson(model);
  writeFileAtomic(options.out, bytes);
  stdout.write(`wrote ${displayPath(options.out)} (${format}, ${bytes.length.toLocaleString('en-US')} bytes) from ${displayPath(options.model)}\n`);
  return format;
}

function formatOf(out: string): ExportFormat {
  const ext = extname(out).slice(1).toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(ext)) return ext as ExportFormat;
  throw badOption(`say --format ${EXPORT_FORMATS.join('|')}: it cannot be told from the name ${JSON.stringify(out)}`);
}
