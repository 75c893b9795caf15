import { permutation, Rng, STREAM } from '../math/rng.js';
import type { TrainConfig } from '../types.js';

/** Which training-set images are trained on and which are held out for validation. */
export interface Split {
  /** Indices trained on, ascending. */
  train: Uint32Array;
  /** Indices held out, ascending (empty without a validation split). */
  validation: Uint32Array;
}

/** Batches of `batchSize` in `trainCount` images, the last one smaller. */
export function stepsPerEpoch(trainCount: number, batchSize: number): number {
  return Math.ceil(trainCount / batchSize);
}

/** Images held out for validation from a training set of `count`. */
function heldOut(count: number, config: TrainConfig): number {
  return Math.round(config.validation_split * count);
}

/**
 * Optimiser steps in one epoch of `config` over a training set of `count` images: the batches of
 * the images it trains on (the held-out ones not), the last one smaller. What a progress bar,
 * a monitor or a resume line shows; the training loop counts the same from its split.
 */
export function epochSteps(config: TrainConfig, count: number): number {
  return stepsPerEpoch(count - heldOut(count, config), config.batch_size);
}

/**
 * Holds out round(validation_split · count) images chosen by a permutation drawn from the seed,
 * so the split is the same for every party and every resume.
 */
export function splitTrainingSet(count: number, config: TrainConfig): Split {
  const held = heldOut(count, config);
  if (held === 0) {
    const all = new Uint32Array(count);
    for (let i = 0; i < count; i++) all[i] = i;
    return { train: all, validation: new Uint32Array(0) };
  }
  const p = permutation(count, new Rng(config.seed, STREAM.validationSplit, 0));
  const validation = p.slice(0, held).sort();
  const train = p.slice(held).sort();
  return { train, validation };
}
