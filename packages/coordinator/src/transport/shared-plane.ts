import type { RowMover, SharedRegion, Weights } from '@mnist-lr/core/engine';
import { TaskSlot, WeightsBoard, type SlotResult, type TaskMessage, type ThreadSlot } from '@mnist-lr/core/protocol';

export interface SharedPlaneOptions<P> {
  /** Sample indices a task may carry: the run's batch size. */
  capacity: number;
  /** Worker threads that may spin between tasks (this thread spins too while it waits): cores − 1. */
  spinners: number;
  /**
   * A region of the kernels' shared memory (core's claimSharedRegion over the training images),
   * for the board and each slot's results, so that the kernels' modules move their rows; null
   * when there is none (they then live in buffers of their own and rows move in JS).
   */
  region(): SharedRegion | null;
  /** How this thread moves rows (its kernel's mover). */
  mover: RowMover;
  /**
   * A task's answer, complete and matching the task in flight: packed views onto the slot.
   * `ms`: from posting the task to the worker finishing it (not to this thread noticing).
   */
  onResult(peer: P, r: SlotResult, ms: number): void;
  /** A task the worker could not compute: its weights version had left the board (a late task). */
  onStale(peer: P, task: number): void;
  /** The peer's slot answered another task than the one in flight: a broken worker. */
  onBroken(peer: P, detail: string): void;
}

/** One slot and the connection bound to it. */
interface Seat<P> {
  slot: TaskSlot;
  peer: P | null;
  spin: boolean;
  /** The task posted and not answered yet, and when (performance.now() of this thread). */
  inFlight: TaskMessage | null;
  postedAt: number;
  /** Tasks waiting for the one in flight (a slot holds one task at a time). */
  queue: TaskMessage[];
}

/** How long a coordinator waiting from the event loop sleeps before it looks again anyway. */
const WATCH_MS = 50;

/**
 * The coordinator's side of the shared-memory data plane (DESIGN.md §10, core's protocol/plane):
 * worker threads of this process that proved, in their hello, that they hold a slot made here
 * get their tasks through that slot and answer there, and bring their own copy of the weights up
 * to date from one board written once per step. Everything else about them (admission,
 * heartbeats, leaving, refusals) stays on their WebSocket, as for any worker.
 *
 * Waiting for answers: `spin` polls the slots from this thread (microseconds apart) for a bounded
 * time, which is what makes a step of a few microseconds worth sharing; `watch` then keeps
 * polling from the event loop, woken by Atomics.waitAsync, so timers (step deadlines), closed
 * sockets and everything else still run while a slow or dead thread is waited for.
 */
export class SharedPlane<P> {
  readonly board: WeightsBoard;
  private readonly byProof = new Map<string, Seat<P>>();
  private readonly byPeer = new Map<P, Seat<P>>();
  /** Seats with a task in flight. */
  private readonly busy = new Set<Seat<P>>();
  private watching = false;
  private closed = false;

  constructor(private readonly options: SharedPlaneOptions<P>) {
    this.board = WeightsBoard.create(options.region() ?? undefined);
  }

  /** A new slot, for one worker thread to be started with. */
  newSlot(): ThreadSlot {
    const slot = TaskSlot.create(this.options.capacity, this.options.region() ?? undefined);
    this.byProof.set(slot.proof(), { slot, peer: null, spin: false, inFlight: null, postedAt: 0, queue: [] });
    return { board: { buffer: this.board.buffer, byteOffset: this.board.byteOffset }, slot: slot.buffer, result: slot.result };
  }

  /**
   * Binds `peer` to the slot whose proof it sent. False when no slot has that proof (a worker
   * elsewhere cannot know one) or another connection holds it: the peer then stays on WebSocket.
   */
  bind(peer: P, proof: string): boolean {
    const seat = this.byProof.get(proof);
    if (seat === undefined || seat.peer !== null || this.closed) return false;
    seat.peer = peer;
    seat.spin = this.spinning() < this.options.spinners;
    seat.inFlight = null;
    seat.queue = [];
    // A task of an earlier connection may still be answered in the slot: it is not this one's.
    seat.slot.open(seat.spin);
    this.byPeer.set(peer, seat);
    return true;
  }

  /** The peer left or was dropped: its slot closes (a sleeping thread wakes to see it) and its tasks are forgotten. */
  release(peer: P): void {
    const seat = this.byPeer.get(peer);
    if (seat === undefined) return;
    this.byPeer.delete(peer);
    this.busy.delete(seat);
    seat.slot.close();
    seat.peer = null;
    seat.inFlight = null;
    seat.queue = [];
    if (seat.spin) {
      seat.spin = false;
      // Its turn to spin goes to a thread that sleeps between tasks, if any.
      for (const other of this.byPeer.values()) {
        if (!other.spin) {
          other.spin = true;
          other.slot.setSpin(true);
          break;
        }
      }
    }
  }

  /** Puts the weights of `version` on the board; `changed`: the rows that differ from `since`'s (null: unknown). */
  publish(weights: Weights, version: number, changed: Uint16Array | null, changedCount: number, since: number): void {
    this.board.publish(weights, version, since === this.board.version ? changed : null, changedCount, this.options.mover);
  }

  /** Hands a task to a bound peer: posted now, or queued behind the one in flight. */
  send(peer: P, task: TaskMessage): void {
    const seat = this.byPeer.get(peer);
    if (seat === undefined) throw new Error('SharedPlane.send: the peer holds no slot');
    if (seat.inFlight === null) this.post(seat, task);
    else seat.queue.push(task);
  }

  /**
   * Delivers every answer that is complete (onResult, onStale) and posts the tasks queued behind
   * them. Returns whether tasks are still in flight.
   */
  poll(): boolean {
    for (const seat of this.busy) {
      if (!seat.slot.answered()) continue;
      const task = seat.inFlight!;
      const peer = seat.peer!;
      this.busy.delete(seat);
      seat.inFlight = null;
      const r = seat.slot.answer();
      const next = seat.queue.shift();
      if (r.task !== task.task) {
        this.options.onBroken(peer, `its slot answered task ${r.task} while task ${task.task} was in flight`);
        continue;
      }
      if (!r.ok) this.options.onStale(peer, task.task);
      else this.options.onResult(peer, r, r.doneAt - performance.timeOrigin - seat.postedAt);
      // The handlers may have dropped the peer (a bad result): its seat is released then.
      if (next !== undefined && seat.peer === peer) this.post(seat, next);
    }
    return this.busy.size > 0;
  }

  /**
   * Polls from this thread until `done()` holds, no task is in flight, or `ms` passed: while a
   * step's slices are computed next door, a wait of microseconds instead of an event-loop turn.
   */
  spin(done: () => boolean, ms: number): void {
    if (this.busy.size === 0) return;
    const until = performance.now() + ms;
    for (let i = 0; ; i++) {
      if (!this.poll() || done()) return;
      // performance.now() costs more than a poll: look at the clock every 64 polls.
      if ((i & 63) === 63 && performance.now() >= until) return;
    }
  }

  /** Keeps polling from the event loop while tasks are in flight, woken by each answer written. */
  watch(): void {
    if (this.watching || this.closed) return;
    const seen = this.board.resultsWritten();
    if (!this.poll()) return;
    this.watching = true;
    void this.board.waitForResult(seen, WATCH_MS).then(() => {
      this.watching = false;
      this.watch();
    });
  }

  /** Closes every slot (end of the run). */
  close(): void {
    this.closed = true;
    for (const peer of [...this.byPeer.keys()]) this.release(peer);
  }

  private post(seat: Seat<P>, task: TaskMessage): void {
    seat.inFlight = task;
    seat.postedAt = performance.now();
    this.busy.add(seat);
    seat.slot.post(task.task, task.version, task.epoch ?? 0, task.indices);
  }

  private spinning(): number {
    let n = 0;
    for (const seat of this.byPeer.values()) if (seat.spin) n++;
    return n;
  }
}
