/**
 * Answers held back: a refusal that a repeated wrong credential earned is sent after its delay,
 * and no more than `max` wait at once (past it, a request that earned a delay is cut off
 * unanswered), so that a guesser cannot make the server hold an unbounded number of sockets.
 */
import type { ServerResponse } from 'node:http';

export class HeldAnswers {
  private held = 0;

  constructor(private readonly max = 256) {}

  /** `answer` after `delayMs`, or at once when there is no delay. */
  later(res: ServerResponse, delayMs: number, answer: () => void): void {
    if (delayMs <= 0) return answer();
    if (this.held >= this.max) return void res.destroy();
    this.held++;
    setTimeout(() => {
      this.held--;
      answer();
    }, delayMs).unref();
  }
}
