import type { EventKind, RunEvent } from './status-schema.js';

/**
 * The run's feed of notable events, numbered from 1 so that a page that reconnects can ask for
 * what it missed (SSE Last-Event-ID). Only the newest `limit` are kept.
 */
export class EventLog {
  private readonly events: RunEvent[] = [];
  private nextId = 1;

  /** @param limit events kept. Default 1000. */
  constructor(private readonly limit = 1000) {}

  add(kind: EventKind, text: string, reason: string | null = null, at = Date.now()): RunEvent {
    const e: RunEvent = { id: this.nextId++, at, kind, reason, text };
    this.events.push(e);
    if (this.events.length > this.limit) this.events.shift();
    return e;
  }

  /** Id of the newest event, 0 before the first. */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Events with an id above `id`, oldest first (the kept ones only). */
  after(id: number): RunEvent[] {
    const first = this.events.findIndex((e) => e.id > id);
    return first < 0 ? [] : this.events.slice(first);
  }
}
