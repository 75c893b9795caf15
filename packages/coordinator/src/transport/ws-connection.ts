import type { WebSocket } from 'ws';
import type { PeerConnection, PeerConnectionEvents } from './connection.js';

/** How long a peer has to answer our close before its socket is destroyed, milliseconds. */
export const CLOSE_GRACE_MS = 1000;

/**
 * Carries a pool connection over an accepted WebSocket: `accept` is given the connection and
 * returns the handlers its events go to.
 */
export function attachWebSocket(ws: WebSocket, accept: (connection: PeerConnection) => PeerConnectionEvents): void {
  const events = accept({
    send: (frame) => ws.send(frame, { binary: true }),
    close: (code, text) => {
      if (ws.readyState === ws.OPEN) ws.close(code, text);
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    },
    ping: () => {
      if (ws.readyState === ws.OPEN) ws.ping();
    },
  });
  ws.on('pong', () => events.pong());
  ws.on('message', (data: Buffer, isBinary: boolean) => events.frame(data, isBinary));
  ws.on('error', () => {
    // 'close' follows.
  });
  ws.on('close', (code: number, reason: Buffer) => events.closed(code, reason.toString()));
}
