import { SliceTimes } from './slice-times.js';

/** Slices-per-second samples kept per worker for its sparkline. */
const SPEED_SAMPLES = 60;

/**
 * What is known about one worker connection, written in place by the pool and the scheduler as
 * things happen (plain field updates), and read by the monitor when someone asks.
 */
export class WorkerRecord {
  label = '';
  connected = false;
  /**
   * How its tasks and results travel: over its WebSocket, or through a shared-memory slot (a
   * worker thread of the coordinator's process). Its control traffic is on the WebSocket either way.
   */
  transport: 'WebSocket' | 'shared memory' = 'WebSocket';
  slices = 0;
  bytesIn = 0;
  bytesOut = 0;
  framesIn = 0;
  framesOut = 0;
  /** Date.now() of the last frame or pong from the worker. */
  lastHeard: number;
  joinedAt: number;
  leftAt: number | null = null;
  reason: string | null = null;
  readonly times = new SliceTimes();
  /** Slices per second, one value per sampling period (see RunMonitor), oldest first. */
  readonly speed: number[] = [];
  private slicesAtSample = 0;

  constructor(
    readonly id: number,
    readonly address: string,
    now = Date.now(),
  ) {
    this.lastHeard = now;
    this.joinedAt = now;
  }

  sliceDone(ms: number): void {
    this.slices++;
    this.times.record(ms);
  }

  /** Appends the speed since the previous sample, `seconds` ago. */
  sampleSpeed(seconds: number): void {
    this.speed.push(seconds > 0 ? (this.slices - this.slicesAtSample) / seconds : 0);
    if (this.speed.length > SPEED_SAMPLES) this.speed.shift();
    this.slicesAtSample = this.slices;
  }
}
