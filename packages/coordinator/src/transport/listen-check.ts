/**
 * Why the coordinator cannot listen, as a coded error the user can act on, and a check that
 * finds out before anything slow (loading 55 MB of MNIST) has been done.
 */
import { createServer } from 'node:net';
import { MnistLrError } from '@mnist-lr/core/engine';

/** The coded error for a failed `listen(port, host)`; errors that are not about the address pass through. */
export function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new MnistLrError('PORT_IN_USE', `cannot listen on ${where}: another program already uses port ${port}; choose another --port, or stop that program`, { cause: e });
    case 'EADDRNOTAVAIL':
      return new MnistLrError('ADDRESS_UNAVAILABLE', `cannot listen on ${where}: ${host} is not an address of this machine; pass --host with one of its addresses, or 0.0.0.0 for all of them`, { cause: e });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new MnistLrError('ADDRESS_UNAVAILABLE', `cannot listen on ${where}: the host name ${host} does not resolve; pass --host with an address of this machine`, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new MnistLrError('ADDRESS_UNAVAILABLE', `cannot listen on ${where}: not permitted (ports below 1024 need privileges); choose a --port of 1024 or more`, { cause: e });
    default:
      return e;
  }
}

/**
 * Binds `host:port` and lets go at once: throws the coded error `listen` would. Port 0 always
 * succeeds for a valid host. There is a window between this check and the real listen, in which
 * another program could take the port; the real listen reports that with the same codes.
 */
export function checkListen(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (e) => reject(listenError(e, host, port)));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
