/** Where the shared worker token comes from: a file or the environment, never a built-in default. */

import { MnistLrError } from '@mnist-lr/core/engine';

import { markUsage } from './errors.js';
import { readOptionFile } from './options.js';

/** The environment variable holding the token when --token-file is not given. */
export const TOKEN_ENV = 'MNIST_LR_TOKEN';

/** The token from `--token-file FILE` (trimmed), else $MNIST_LR_TOKEN, else undefined. */
export function readToken(tokenFile: string | undefined): string | undefined {
  if (tokenFile !== undefined) {
    const text = readOptionFile('--token-file', tokenFile).toString('utf8').trim();
    if (text === '') throw markUsage(new MnistLrError('BAD_OPTION', `--token-file ${tokenFile} is empty; put the shared token in it`));
    return text;
  }
  const env = process.env[TOKEN_ENV]?.trim();
  return env ? env : undefined;
}

