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
  /** The engine it runs in, as its hello named it ("Node 20.20.2", "Firefox 153"), or null when it did not. */
  engine: string | null = null;
  slices = 0;
  /** Samples in its answered slices, and the milliseconds they took (sent to answered): its rate. */
  samples = 0;
  busyMs = 0;
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

  sliceDone(ms: number, samples = 0): void {
    this.slices++;
    this.samples += samples;
    this.busyMs += ms;
    this.times.record(ms);
  }

  /** Samples per second while it had slices (as the coordinator sees it, transfers included), or null before any. */
  get samplesPerSecond(): number | null {
    return this.busyMs > 0 ? (this.samples * 1000) / this.busyMs : null;
  }

  /** Appends the speed since the previous sample, `seconds` ago. */
  sampleSpeed(seconds: number): void {
    this.speed.push(seconds > 0 ? (this.slices - this.slicesAtSample) / seconds : 0);
    if (this.speed.length > SPEED_SAMPLES) this.speed.shift();
    this.slicesAtSample = this.slices;
  }
}
