/**
 * The coordinator's address, checked the way `ws` will read it, so that every address `ws` would
 * throw on (a port past 65535, a #fragment) or that cannot be connected to (port 0) is a coded
 * error before any connection is tried, and never a stack trace or a minute of retries.
 */
import { MnistLrError } from '@mnist-lr/core/engine';

const EXPECTED = 'expected ws://HOST:PORT or wss://HOST:PORT (the address the coordinator printed)';

/**
 * The normalised URL to connect to (scheme and host in lower case: URL schemes are
 * case-insensitive, RFC 3986 §3.1, so `WS://` is accepted). `name` is how the user gave it
 * (`--connect`), for the message. Throws BAD_OPTION.
 */
export function coordinatorUrl(raw: string, name = 'the coordinator address'): string {
  const bad = (why: string): MnistLrError => new MnistLrError('BAD_OPTION', `${name} ${raw}: ${why}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    const port = /^[a-z]+:\/\/[^/:]*:(\d+)/i.exec(raw)?.[1];
    if (port !== undefined && Number(port) > 65535) throw bad(`port ${port} is beyond 65535; ${EXPECTED}`);
    throw bad(`not a URL; ${EXPECTED}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw bad(`the scheme is ${url.protocol.slice(0, -1)}, not ws or wss; ${EXPECTED}`);
  if (url.hostname === '') throw bad(`no host name; ${EXPECTED}`);
  // ws refuses any fragment, even an empty one after a bare '#'.
  if (raw.includes('#')) throw bad('a WebSocket address cannot have a #fragment; remove it');
  if (url.port === '0') throw bad('port 0 cannot be connected to; use the port the coordinator printed');
  return url.href;
}
