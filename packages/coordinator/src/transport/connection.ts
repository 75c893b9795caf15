/**
 * A worker's connection as the pool sees it, whatever carries it: frames out, a coded close and a
 * liveness probe; frames, pongs and the close come back through PeerConnectionEvents. The pool
 * speaks the protocol over it; transport/ws-connection.ts carries it over a WebSocket.
 */
export interface PeerConnection {
  /** Sends one binary frame. A frame sent after the connection closed is dropped. */
  send(frame: Uint8Array): void;
  /**
   * Starts the closing handshake with a close code and reason text, and cuts the connection off
   * when the peer does not answer it soon (a stopped process never does).
   */
  close(code: number, text: string): void;
  /** Asks the peer for a pong (heartbeat). */
  ping(): void;
}

/** What a connection reports to its pool. */
export interface PeerConnectionEvents {
  /** A whole message arrived; `binary` is false for a text frame. */
  frame(data: Buffer, binary: boolean): void;
  /** The peer answered a ping. */
  pong(): void;
  /** The connection is closed, with the close code and reason text it was closed with. */
  closed(code: number, reason: string): void;
}
