/** Starting `mnist-lr serve` (the built command) as a child process and waiting for its address. */
import { spawn, type ChildProcess } from 'node:child_process';

import { BIN, ROOT } from './cli.js';

export interface Served {
  child: ChildProcess;
  /** http://host:port as the command printed it. */
  url: string;
  /** Everything the process wrote to stderr so far. */
  stderr: () => string;
  stop(): Promise<void>;
}

/** Runs `mnist-lr serve ARGS` and resolves once it prints its address (within 60 s). */
export function serve(...args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not print its address within 60 s:\n${out}\n${err}`));
    }, 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${String(code)}:\n${out}\n${err}`));
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /on (http:\/\/\S+) for/.exec(out)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        child,
        url,
        stderr: () => err,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
