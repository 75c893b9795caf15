import { mean, median } from './stats.js';

/** Steps run before a cell is timed, milliseconds. */
export const WARMUP_MS = 2000;

/** What a timed cell of the step benchmarks reports. */
export interface Cell {
  /** Median milliseconds per step: the typical step. */
  msPerStep: number;
  /** Mean milliseconds per step: what an epoch takes, pauses (GC, scheduling, evaluation) included. */
  meanMs: number;
  /**
   * CPU milliseconds per step of this process, all its threads (coordinator and workers) together,
   * over the timed steps: the work a step costs, which waiting for a busy machine does not inflate.
   */
  cpuMs: number;
  steps: number;
  /** WebSocket payload bytes per step and worker, coordinator to worker and back (0 in-process). */
  bytesDown: number;
  bytesUp: number;
}

/**
 * Times the steps of a training loop from its onStep hook, the same way for in-process and
 * distributed runs: steps in the first WARMUP_MS are not timed (start-up garbage collections and
 * JIT tiering, which a long run does not have), then every interval between two steps is, until
 * `budgetMs` passed and at least 20 were timed; then `stop` is called.
 */
export class StepTimer {
  private readonly times: number[] = [];
  private warmup: number | undefined;
  private last = 0;
  private started = 0;
  private cpuFrom = process.cpuUsage();
  private cpuTo = this.cpuFrom;
  private done = false;

  constructor(
    private readonly budgetMs: number,
    private readonly stop: () => void,
    /** Told when timing starts (`true`) and ends (`false`), e.g. to read traffic counters. */
    private readonly edge: (starting: boolean) => void = () => {},
  ) {}

  /** Call from onStep. */
  step(): void {
    if (this.done) return;
    const now = performance.now();
    this.warmup ??= now + WARMUP_MS;
    if (now < this.warmup) return;
    if (this.last) this.times.push(now - this.last);
    else {
      this.started = now;
      this.cpuFrom = process.cpuUsage();
      this.edge(true);
    }
    this.last = now;
    if (now - this.started > this.budgetMs && this.times.length >= 20) {
      this.cpuTo = process.cpuUsage();
      this.edge(false);
      this.done = true;
      this.stop();
    }
  }

  /** The timed steps so far (at least one). */
  get count(): number {
    return Math.max(1, this.times.length);
  }

  /** The cell, traffic aside. */
  cell(): Cell {
    const cpuMs = (this.cpuTo.user - this.cpuFrom.user + this.cpuTo.system - this.cpuFrom.system) / 1000 / this.count;
    return { msPerStep: median(this.times), meanMs: mean(this.times), cpuMs, steps: this.times.length, bytesDown: 0, bytesUp: 0 };
  }
}

/**
 * The WebSocket bytes a coordinator moved over the timed steps of a cell: its traffic counters read
 * when the timer starts and when it ends (pass `edge` to the StepTimer).
 */
export class TrafficWindow {
  private from = { out: 0, in: 0 };
  private to = { out: 0, in: 0 };

  constructor(private readonly read: () => { bytesOut: number; bytesIn: number }) {}

  readonly edge = (starting: boolean): void => {
    const t = this.read();
    if (starting) this.from = { out: t.bytesOut, in: t.bytesIn };
    else this.to = { out: t.bytesOut, in: t.bytesIn };
  };

  /** Bytes sent (down) and received (up) in the window. */
  get bytes(): { down: number; up: number } {
    return { down: this.to.out - this.from.out, up: this.to.in - this.from.in };
  }
}
