/** A validated training config: the origin's keys as it spells them, plus documented extensions. */
export interface TrainConfig {
  /** Number of passes over the training set (origin's spelling). Integer ≥ 1. */
  num_epoches: number;
  /** Samples per minibatch. Integer ≥ 1. The last, smaller batch of an epoch is kept. */
  batch_size: number;
  /** Initial learning rate. > 0. */
  learning_rate: number;
  /** 1: multiply lr by decay_factor after an epoch whose accuracy rose by < 0.001. 0: off. */
  learning_decay: 0 | 1;
  /** Factor of the decay rule. In (0, 1]. */
  decay_factor: number;
  /** 1: SGD with momentum (v ← mu·v + lr·g; w ← w − v). 0: plain SGD. */
  momentum: 0 | 1;
  /** Momentum coefficient. In [0, 1). */
  mu: number;
  /** Extension. Seed of the epoch permutations and of the validation split. Integer in [0, 2³²). Default 0. */
  seed: number;
  /** Extension. Fraction of the training set held out for validation, in [0, 0.5). Default 0 (none). */
  validation_split: number;
  /** Extension. L2 weight decay λ on W (not b): g ← g + λ·W. ≥ 0. Default 0. */
  weight_decay: number;
}

/**
 * A config as a library caller may write it: the origin's seven keys, the 0/1 switches also as
 * booleans, and the extensions optional (each defaults to 0). Entry points complete it into a
 * TrainConfig with the config schema.
 */
export type ConfigInput = Omit<TrainConfig, 'learning_decay' | 'momentum' | 'seed' | 'validation_split' | 'weight_decay'> & {
  learning_decay: 0 | 1 | boolean;
  momentum: 0 | 1 | boolean;
} & Partial<Pick<TrainConfig, 'seed' | 'validation_split' | 'weight_decay'>>;

/** Per-epoch measurements, the unit of logs, metrics files, plots and the README table. */
export interface EpochMetrics {
  epoch: number;
  /** Learning rate used during this epoch. */
  lr: number;
  /** Mean training loss over the epoch's samples (exact sum of quantised per-sample losses). */
  trainLoss: number;
  /** Fraction of the epoch's training samples classified right, with the weights of their step. */
  trainAccuracy: number;
  /** Sum of −log p_y over the test set (the origin's "test loss"). */
  testLossSum: number;
  /** Mean of −log p_y over the test set. */
  testLoss: number;
  /** Fraction of the test set classified right. */
  testAccuracy: number;
  /** Same three on the validation split, when there is one. */
  valLossSum?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Wall-clock seconds of this epoch's training steps (not evaluation). Not deterministic. */
  seconds: number;
}

/** Best value of a metric over a run and the epoch (1-based) where it was reached. */
export interface Best {
  value: number;
  epoch: number;
}
