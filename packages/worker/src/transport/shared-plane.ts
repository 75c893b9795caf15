import type { BatchSums, RowMover, Weights } from '@mnist-lr/core/engine';
import { TaskSlot, WeightsBoard, type SlotTask, type ThreadSlot } from '@mnist-lr/core/protocol';

/** A worker's side of the shared-memory data plane, made from the ThreadSlot it was given. */
export interface SharedPlaneClient {
  board: WeightsBoard;
  slot: TaskSlot;
}

export function planeClient(given: ThreadSlot): SharedPlaneClient {
  return { board: new WeightsBoard(given.board.buffer, given.board.byteOffset), slot: new TaskSlot(given.slot, given.result) };
}

export interface ServeOptions {
  plane: SharedPlaneClient;
  /** The worker's own copy of the weights, which the board brings up to date. */
  replica: Weights;
  /** The version `replica` holds (-1: none): read and updated here. */
  held: { version: number };
  /** How this thread moves rows (its kernel's mover). */
  mover: RowMover;
  /**
   * Computes the task's slice with `replica` (at `held.version`), hands its exact sums to `reply`
   * (which writes them to the slot) and counts the slice: the worker's one computation, the same
   * as for a task over WebSocket. False when the task broke the protocol (a bad sample index):
   * the connection has then been closed, and the loop ends.
   */
  computeSlice(t: SlotTask, reply: (out: BatchSums) => void): boolean;
  /** True once the WebSocket connection ended: the loop returns. */
  stopped(): boolean;
}

/**
 * How long the thread spins between tasks before it sleeps (Atomics.waitAsync): longer than a
 * step's own pauses (the update, an epoch's evaluation), so that within a run a task is picked up
 * within a microsecond; waking a sleeping thread costs tens of microseconds on these machines.
 */
const IDLE_SPIN_MS = 20;
/** The thread's event loop gets a turn at least this often (heartbeats, its socket closing). */
const TURN_MS = 20;
/** A sleeping thread looks again after this long even without a notification. */
const SLEEP_MS = 100;

/**
 * Computes the tasks posted in the thread's slot until the slot is closed or the connection ends.
 * Between tasks the thread spins (polling the slot) when the coordinator allows it, for up to
 * IDLE_SPIN_MS, then sleeps without blocking its event loop; while spinning or computing back to
 * back it still gives its event loop a turn every TURN_MS. Returns the slices computed.
 */
export async function serveSharedPlane(o: ServeOptions): Promise<number> {
  const { slot, board } = o.plane;
  // Tasks posted before this connection bound the slot were another connection's.
  let seen = slot.boundSeq();
  let done = 0;
  let turnAt = performance.now();
  let idleSince = turnAt;
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  for (;;) {
    if (slot.closed() || o.stopped()) return done;
    const seq = slot.taskSeq();
    if (seq !== seen) {
      seen = seq;
      const t = slot.readTask(seq);
      if (!serve(t)) return done;
      done++;
      idleSince = performance.now();
      if (idleSince - turnAt >= TURN_MS) {
        await turn();
        turnAt = performance.now();
      }
      continue;
    }
    const now = performance.now();
    if (slot.maySpin() && now - idleSince < IDLE_SPIN_MS) {
      if (spinFor(slot, seen, Math.min(TURN_MS - (now - turnAt), IDLE_SPIN_MS - (now - idleSince)))) continue;
      await turn();
      turnAt = performance.now();
    } else {
      await slot.sleep(seen, SLEEP_MS);
      turnAt = performance.now();
    }
  }

  /** Answers one task; false when the loop must end (the coordinator broke the protocol). */
  function serve(t: SlotTask): boolean {
    o.held.version = board.take(o.replica, o.held.version, t.version, o.mover);
    if (o.held.version !== t.version) {
      slot.stale(t);
      board.resultWritten();
      return true;
    }
    return o.computeSlice(t, (out) => {
      slot.reply(t, out.sums, out.rows, o.mover);
      board.resultWritten();
    });
  }
}

/** Polls the slot for a task after `seen` for up to `ms`; true when one was posted or the slot closed. */
function spinFor(slot: TaskSlot, seen: number, ms: number): boolean {
  const until = performance.now() + Math.max(0, ms);
  for (let i = 0; ; i++) {
    if (slot.taskSeq() !== seen || slot.closed()) return true;
    if ((i & 255) === 255 && performance.now() >= until) return false;
  }
}
