/**
 * How a browser joins with a link (docs/browser-workers.md). Browsers cannot set headers on a
 * WebSocket, so a join link carries a compute-only secret in its #fragment (which browsers never
 * send to a server, and so never reaches a log), never the run's token. The join page's worker
 * offers it as a WebSocket subprotocol value beside SUBPROTOCOL, which the coordinator selects (it
 * never echoes the secret back), and sends it in a header with its data requests.
 */

/** The subprotocol a coordinator selects for a worker that offered a join secret. */
export const SUBPROTOCOL = 'mnist-lr';

/** What a subprotocol value carrying a join secret starts with. */
export const JOIN_SUBPROTOCOL_PREFIX = 'mnist-lr.join.';

/** The header a join page's data requests carry the secret in. */
export const JOIN_HEADER = 'x-mnist-lr-join';

/**
 * A join secret: base64url (a valid subprotocol token, URL fragment and header value), 22 to 128
 * characters (the coordinator makes 43: 32 random bytes).
 */
export const JOIN_SECRET_PATTERN = /^[A-Za-z0-9_-]{22,128}$/;

/** The subprotocols a worker with `secret` offers, in its WebSocket constructor. */
export function joinProtocols(secret: string): string[] {
  return [SUBPROTOCOL, `${JOIN_SUBPROTOCOL_PREFIX}${secret}`];
}

/** The join secret among offered subprotocol values, if one is there. */
export function joinSecretOf(offered: Iterable<string>): string | undefined {
  for (const value of offered) {
    if (value.startsWith(JOIN_SUBPROTOCOL_PREFIX)) return value.slice(JOIN_SUBPROTOCOL_PREFIX.length);
  }
  return undefined;
}
