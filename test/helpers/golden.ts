/**
 * The golden weight hashes ("Checking a run" in the README): the SHA-256 of the weights after
 * training with seed 0, the same in-process and with any workers, on any machine.
 */
export const GOLDEN = [
  { config: 'config_1', epochs: 2, sha256: '9146f7600b9fe277d0191d7a950ddbdd73ac808dcf33265640c49fe09aa197ae' },
  { config: 'config_sample', epochs: 1, sha256: '9fe9949bb1cbe702e402bca1e892d1954097606e8c44a953ae4650a567d08e70' },
] as const;
