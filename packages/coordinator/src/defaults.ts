/**
 * The coordinator's defaults, stated once: Coordinator.start() applies them and the command line
 * offers them as its flags' defaults. Times are in milliseconds. This module imports nothing, so
 * a command can read it (as the "@mnist-lr/coordinator/defaults" subpath) without loading the
 * WebSocket server.
 */
export const COORDINATOR_DEFAULTS = {
  /** Interface to bind: loopback, so nothing beyond this machine connects unless told. */
  host: '127.0.0.1',
  /** TCP port; 0 picks a free one. */
  port: 0,
  /** Workers to wait for before the first step. */
  minWorkers: 1,
  /** How long to wait for workers, at the start and whenever none is left. */
  workerWaitMs: 60_000,
  /** Longest time a worker may take to return a slice (the adaptive deadline's ceiling). */
  stepTimeoutMs: 10_000,
  /** Shortest deadline once slice times are known (the adaptive deadline's floor). */
  minStepTimeoutMs: 1000,
  /** The adaptive deadline is this many times the median slice time. */
  deadlineFactor: 20,
  /** Backup workers after this many median slice times; 0: off. */
  backupFactor: 0,
  /** Deadline for a new connection's hello. */
  handshakeTimeoutMs: 10_000,
  /** Heartbeat period; a worker silent for two periods is dropped. */
  heartbeatMs: 5000,
} as const;
