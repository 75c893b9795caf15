/**
 * GET /events: Server-Sent Events for the page. Every `intervalMs` (and only while someone
 * listens, and only if something changed) the monitor's status is serialised once and written
 * to every listener, followed by the feed events they have not had. Feed events carry their id,
 * so a page that reconnects sends Last-Event-ID and gets what it missed. The training loop never
 * waits for any of this: it runs on a timer, off the step path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { RunMonitor } from '../monitor/run-monitor.js';

export interface EventStreamOptions {
  /** Milliseconds between two pushes. Default 1000. */
  intervalMs?: number;
  /** Milliseconds a browser waits before reconnecting (the `retry:` field). Default 3000. */
  retryMs?: number;
  /** A listener whose unsent output exceeds this many bytes is cut off (it reconnects). Default 4 MiB. */
  maxBuffered?: number;
  /** Feed events sent to a listener that connects afresh. Default 200. */
  backlog?: number;
}

export class EventStream {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private sentVersion = -1;
  private sentEventId: number;
  private idleTicks = 0;
  private readonly intervalMs: number;

  constructor(
    private readonly monitor: RunMonitor,
    private readonly options: EventStreamOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.sentEventId = monitor.events.lastId;
  }

  add(req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): void {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const last = Number.parseInt(String(req.headers['last-event-id'] ?? ''), 10);
    const events = Number.isSafeInteger(last) && last >= 0 ? this.monitor.eventsAfter(last) : this.monitor.eventsAfter(0).slice(-(this.options.backlog ?? 200));
    let out = `retry: ${this.options.retryMs ?? 3000}\n\n`;
    // The events up to the shared cursor go now; later ones go with the next push, to everyone.
    for (const e of events) if (e.id <= this.sentEventId) out += feed(e);
    out += `event: status\ndata: ${JSON.stringify(this.monitor.status())}\n\n`;
    res.write(out);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (!this.timer) {
      this.timer = setInterval(() => this.push(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    this.stop();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private push(): void {
    const m = this.monitor;
    m.sampleWorkers();
    if (m.version === this.sentVersion) {
      // A comment now and then keeps proxies from closing an idle stream.
      if (++this.idleTicks * this.intervalMs >= 15_000) this.broadcast(': idle\n\n');
      return;
    }
    this.idleTicks = 0;
    this.sentVersion = m.version;
    let out = '';
    for (const e of m.eventsAfter(this.sentEventId)) out += feed(e);
    this.sentEventId = m.events.lastId;
    out += `event: status\ndata: ${JSON.stringify(m.status())}\n\n`;
    this.broadcast(out);
  }

  private broadcast(text: string): void {
    const max = this.options.maxBuffered ?? 4 << 20;
    for (const res of this.clients) {
      if (res.writableLength > max) res.destroy();
      else res.write(text);
    }
  }
}

function feed(e: { id: number }): string {
  return `id: ${e.id}\nevent: feed\ndata: ${JSON.stringify(e)}\n\n`;
}
