/**
 * Training progress on the terminal.
 *
 * On a TTY: a bar per epoch, redrawn in place and fitted to the terminal's width (progress-line.ts),
 *   epoch 3/15 |████████░░░░░░░░| 45% | 2,700/6,000 steps | 12,345 steps/s | ETA 12s, run 3m05s
 * and, when the epoch ends, its log line in the bar's place. Elsewhere (a pipe, a file, CI):
 * only the epoch lines, one per epoch, with no control characters.
 *
 * The in-process training loop is synchronous within an epoch, so no timer can fire while it
 * runs: `step()` is called from the loop's onStep hook, checks the clock, and renders
 * synchronously at most once per `intervalMs`. Checking the clock costs tens of nanoseconds,
 * rendering a line tens of microseconds; at 100 ms the bar costs nothing measurable.
 */
import cliProgress from 'cli-progress';

// The ETA helpers alone: the package root would load the dashboard's servers.
import { eta, RateMeter, remaining } from '@mnist-lr/watch/monitor';
import type { StepInfo } from '@mnist-lr/core/engine';

import { progressLine, type LineState } from './progress-line.js';

export interface TrainProgress {
  /** After each optimiser step; cheap unless a redraw is due. */
  step(info: StepInfo): void;
  /** After each epoch: removes the bar and prints `line` (the epoch's log line). */
  epochDone(line: string): void;
  /** Prints a line of its own (above the bar, if one is showing). */
  print(line: string): void;
  /** Removes the bar, if any; safe to call more than once (after an error, say). */
  stop(): void;
  /** Shows the number of connected workers on the bar (distributed runs). */
  workers(count: number): void;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  /** Epochs in the run, for "epoch 3/15". */
  totalEpochs: number;
  /** Draw a bar. Default: whether `stream` is a TTY. */
  tty?: boolean;
  /** Minimum milliseconds between two redraws. Default 100. */
  intervalMs?: number;
  /** Milliseconds; injectable for tests. Default performance.now. */
  clock?: () => number;
}

export function createProgress(options: ProgressOptions): TrainProgress {
  const tty = options.tty ?? options.stream.isTTY === true;
  return tty ? new BarProgress(options) : new LineProgress(options.stream);
}

/** Not a terminal: the epoch lines only. */
class LineProgress implements TrainProgress {
  constructor(private readonly stream: NodeJS.WritableStream) {}
  step(): void {}
  epochDone(line: string): void {
    this.stream.write(`${line}\n`);
  }
  print(line: string): void {
    this.stream.write(`${line}\n`);
  }
  stop(): void {}
  workers(): void {}
}

class BarProgress implements TrainProgress {
  private readonly bar: cliProgress.SingleBar;
  private readonly stream: NodeJS.WriteStream;
  private readonly totalEpochs: number;
  private readonly intervalMs: number;
  private readonly clock: () => number;
  private active = false;
  private epoch = -1;
  private lastDraw = 0;
  private epochStart = 0;
  private stepsAtStart = 0;
  private workerCount: number | null = null;
  /** Steps over the last 10 s, across epochs: the ETA follows a run that speeds up or slows down. */
  private readonly rate = new RateMeter(10_000);
  private stepsDone = 0;
  /** When the epoch's last step ended; its epochDone() then measures the evaluation. */
  private epochStepsEnded = NaN;
  private evalSeconds = 0;

  constructor(options: ProgressOptions) {
    this.stream = options.stream;
    this.totalEpochs = options.totalEpochs;
    this.intervalMs = options.intervalMs ?? 100;
    this.clock = options.clock ?? (() => performance.now());
    this.bar = new cliProgress.SingleBar({
      stream: options.stream,
      // The line is composed to fit the terminal's width as it is at each redraw.
      format: (_options, params, payload) => progressLine(payload as LineState, params.maxWidth),
      clearOnComplete: true,
      // Leave line wrapping alone: cli-progress would switch it off and on again with escape
      // codes, and a Ctrl-C in between (which kills us at once, see below) would leave the
      // user's terminal without wrapping. The line is fitted to the width instead.
      linewrap: true,
      // We render ourselves from step(); cli-progress's own timer cannot fire in a busy loop.
      synchronousUpdate: false,
      // No SIGINT handler: a handler cannot run while an epoch's synchronous loop does, so with
      // one installed Ctrl-C would seem ignored; without, Node ends the process at once, and the
      // metrics file keeps every finished epoch.
      gracefulExit: false,
      hideCursor: false,
    });
  }

  step(info: StepInfo): void {
    const now = this.clock();
    this.stepsDone++;
    if (info.step === info.steps) this.epochStepsEnded = now;
    if (!this.active || info.epoch !== this.epoch) this.begin(info, now);
    else if (now - this.lastDraw < this.intervalMs && info.step < info.steps) return;
    this.rate.sample(now, this.stepsDone);
    this.bar.update(info.step, this.lineState(info, now));
    this.bar.render();
    this.lastDraw = now;
  }

  private lineState(info: StepInfo, now: number): LineState {
    const seconds = (now - this.epochStart) / 1000;
    const speed = seconds > 0.05 ? (info.step - this.stepsAtStart) / seconds : null;
    const left = eta(remaining(info.epoch, info.step, info.steps, this.totalEpochs), this.rate.rate(), this.evalSeconds);
    return {
      epoch: info.epoch + 1,
      epochs: this.totalEpochs,
      progress: info.steps > 0 ? info.step / info.steps : 1,
      done: info.step,
      steps: info.steps,
      speed,
      etaEpoch: left.epoch,
      etaRun: left.run,
      workers: this.workerCount,
    };
  }

  epochDone(line: string): void {
    // The time from the epoch's last step to here is its evaluation and outputs: every epoch
    // still to come will take about as long again.
    if (Number.isFinite(this.epochStepsEnded)) this.evalSeconds = Math.max(0, (this.clock() - this.epochStepsEnded) / 1000);
    this.epochStepsEnded = NaN;
    this.stop();
    this.stream.write(`${line}\n`);
  }

  print(line: string): void {
    // The next step() starts a fresh bar below the line.
    this.stop();
    this.stream.write(`${line}\n`);
  }

  workers(count: number): void {
    this.workerCount = count;
  }

  stop(): void {
    if (!this.active) return;
    this.bar.stop();
    this.active = false;
  }

  private begin(info: StepInfo, now: number): void {
    this.stop();
    this.epoch = info.epoch;
    this.epochStart = now;
    // Speed counts the steps after this one, over the time since this one (a resumed epoch
    // starts part-way).
    this.stepsAtStart = info.step;
    this.bar.start(info.steps, info.step, this.lineState(info, now));
    this.active = true;
  }
}
