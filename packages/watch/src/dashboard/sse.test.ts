/**
 * /events over a real socket: the retry field, feed events with their ids, a status document;
 * a page that reconnects with Last-Event-ID gets only what it missed; new events are pushed.
 */
import { request } from 'node:http';

import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig } from '@mnist-lr/core/engine';

import { RunMonitor } from '../monitor/run-monitor.js';
import { WorkerRecord } from '../monitor/worker-record.js';
import { serveDashboard, type DashboardServer } from './serve.js';

const config = parseConfig({ num_epoches: 2, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 }, 'test');

/** Reads an event stream until `enough` holds of what arrived; returns the text. */
function read(url: string, headers: Record<string, string>, enough: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        if (enough(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const ids = (text: string): number[] => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

describe('GET /events', () => {
  let server: DashboardServer | undefined;
  afterAll(async () => server?.close());

  it('sends retry, the feed with ids and the status; resumes after Last-Event-ID; pushes what happens next', async () => {
    const monitor = new RunMonitor({ name: 'c', path: 'c.json', config, dataset: 'd', kernel: 'k', engine: 'test', trainImages: 60_000 });
    for (let i = 1; i <= 4; i++) monitor.joined(new WorkerRecord(i, `127.0.0.1:${1000 + i}`), `w${i}`);
    server = await serveDashboard({ monitor, pushIntervalMs: 20 });
    const url = new URL('/events', server.url).href;

    const fresh = await read(url, {}, (t) => t.includes('event: status'));
    expect(fresh.startsWith('retry: 3000\n\n')).toBe(true);
    expect(ids(fresh)).toEqual([1, 2, 3, 4]);
    expect(fresh).toMatch(/^event: feed\ndata: \{"id":4,.*"kind":"join".*"text":"worker 4 \(w4\) joined from 127\.0\.0\.1:1004"\}$/m);

    const resumed = await read(url, { 'last-event-id': '2' }, (t) => t.includes('event: status'));
    expect(ids(resumed)).toEqual([3, 4]);

    const later = read(url, { 'last-event-id': '4' }, (t) => ids(t).includes(5) && /event: status[\s\S]*event: status/.test(t));
    setTimeout(() => monitor.backup(), 50);
    const text = await later;
    expect(ids(text)).toEqual([5]);
    expect(text).toContain('"kind":"backup"');
  });
});
