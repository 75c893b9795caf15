/**
 * `mnist-lr serve`: answer predictions over HTTP and serve the draw page, until interrupted.
 *
 * Loopback by default. Listening beyond it needs a token (--token-file or $MNIST_LR_TOKEN, as for
 * the coordinator): requests from other machines must carry it, or log in with it in a browser.
 */
import { loadModel } from '@mnist-lr/core/engine';
import { isLoopbackHost, startPredictServer, type PredictServer } from '@mnist-lr/watch';

import { asUsage, badOption } from '../errors.js';
import { decodeRasters } from '../images/decode.js';
import { displayPath } from '../outputs/format.js';
import { TOKEN_ENV, readToken } from '../token.js';

export interface ServeCommandOptions {
  /** Path of a model file written by `mnist-lr train`. */
  model: string;
  /** Default 127.0.0.1. */
  host: string;
  /** Default 8080; 0 picks a free port. */
  port: number;
  tokenFile?: string;
  /** Largest request body, in KiB. */
  maxBody: number;
  /** Seconds for a request to arrive whole. */
  requestTimeout: number;
}

export async function serveCommand(options: ServeCommandOptions, stdout: NodeJS.WritableStream = process.stdout): Promise<PredictServer> {
  const model = asUsage(() => loadModel(options.model));
  const token = readToken(options.tokenFile);
  const local = isLoopbackHost(options.host);
  if (!local && token === undefined) {
    throw badOption(`--host ${options.host} lets other machines connect, so a token is required: pass --token-file FILE or set ${TOKEN_ENV}`);
  }
  const served = await startPredictServer({
    model,
    decode: decodeRasters,
    host: options.host,
    port: options.port,
    token,
    maxBodyBytes: options.maxBody * 1024,
    requestTimeoutMs: options.requestTimeout * 1000,
  }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      throw badOption(`cannot listen on ${options.host}:${options.port} (${e.code}); choose another --port or --host`);
    }
    throw e;
  });
  const who = local ? 'this machine only' : 'clients with the token (Bearer header, or log in at the page)';
  stdout.write(`serving ${model.name} (${displayPath(options.model)}) on ${served.url} for ${who}\n  draw page: ${served.url}/   predictions: POST ${served.url}/predict   health: ${served.url}/healthz\n`);
  const stop = (): void => {
    void served.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return served;
}
