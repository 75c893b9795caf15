/** Test-set (or validation) measurements of a model. */
export interface Evaluation {
  /** Σ −log p_y over the samples, float64, summed in sample order (the origin's "test loss"). */
  lossSum: number;
  /** lossSum / count. */
  loss: number;
  correct: number;
  count: number;
  /** correct / count. */
  accuracy: number;
  /** confusion[10·y + prediction]: how many samples of label y were predicted as prediction. */
  confusion: Uint32Array;
}
