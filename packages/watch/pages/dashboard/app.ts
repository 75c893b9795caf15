/**
 * The live page: one EventSource to /events, whose `status` events replace the whole view and
 * whose `feed` events append to the event list. Every string is set with textContent, never as
 * HTML, so a worker's label shows as the characters it is, whatever it holds.
 */
import uPlot from 'uplot';

import type { RunEvent, Status, WorkerStatus } from '../../src/monitor/status-schema.js';
import { qrCode } from './qr.js';
import { sparkline } from './sparkline.js';
import { bytes, clock, duration, num } from './format.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
};

const SERIES_COLORS = { test: '#2f6fde', val: '#d9480f', train: '#6a7480' };

interface Chart {
  plot: uPlot;
  el: HTMLElement;
}

/** Plot height in pixels; uPlot's legend goes below it. */
const PLOT_HEIGHT = 170;

function chart(id: string, series: uPlot.Series[], xLabel: string, log = false): Chart {
  const el = $(id);
  const plot = new uPlot(
    {
      width: Math.max(200, el.clientWidth),
      height: PLOT_HEIGHT,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      // Epochs are whole numbers: ticks at 1, 2, 5, 10, … apart, never 1.1.
      axes: [{ label: xLabel, labelSize: 18, size: 30, ...(xLabel === 'epoch' ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] } : {}) }, { size: 56 }],
      series: [{ label: xLabel }, ...series],
    },
    [[], ...series.map(() => [])] as unknown as uPlot.AlignedData,
    el,
  );
  return { plot, el };
}

const line = (label: string, stroke: string): uPlot.Series => ({ label, stroke, width: 2, points: { show: true, size: 5 } });

const charts = {
  loss: chart('chart-loss', [line('test', SERIES_COLORS.test), line('validation', SERIES_COLORS.val)], 'epoch'),
  accuracy: chart('chart-accuracy', [line('test', SERIES_COLORS.test), line('validation', SERIES_COLORS.val), line('train', SERIES_COLORS.train)], 'epoch'),
  train: chart('chart-train', [{ label: 'train loss', stroke: SERIES_COLORS.train, width: 2 }], 'step'),
  lr: chart('chart-lr', [line('lr', SERIES_COLORS.test)], 'epoch', true),
};

// Charts follow their boxes' widths (a rotated phone, a resized window).
new ResizeObserver(() => {
  for (const c of Object.values(charts)) c.plot.setSize({ width: Math.max(200, c.el.clientWidth), height: PLOT_HEIGHT });
}).observe(document.body);

const nullable = (xs: Array<number | undefined>): Array<number | null> => xs.map((x) => (x === undefined ? null : x));

function render(s: Status): void {
  document.title = `mnist-lr · ${s.run.config.name} · ${s.state}`;
  $('config').textContent = `${s.run.config.name} (batch ${s.run.config.values.batch_size}, ${s.run.engine})`;
  const state = $('state');
  state.textContent = s.state;
  state.className = `state ${s.state}`;
  $('reason').textContent = s.reason ?? '';
  $('epoch').textContent = `${s.progress.epoch}/${s.progress.epochs}`;
  $('step').textContent = `${num(s.progress.step)}/${num(s.progress.steps)}`;
  $('eta-epoch').textContent = duration(s.progress.etaEpochSeconds);
  $('eta-run').textContent = duration(s.progress.etaRunSeconds);
  $('speed').textContent = s.progress.stepsPerSecond === null ? '…' : num(Math.round(s.progress.stepsPerSecond));
  $('lr').textContent = String(s.lr);
  const live = s.workers.filter((w) => w.state === 'connected');
  $('worker-count').textContent = String(live.length);

  const epochs = s.epochs.map((m) => m.epoch);
  // How many epochs the curves hold, for whoever checks the page (a test, a screen reader).
  for (const c of [charts.loss, charts.accuracy, charts.lr]) c.el.dataset.points = String(epochs.length);
  charts.loss.plot.setData([epochs, s.epochs.map((m) => m.testLoss), nullable(s.epochs.map((m) => m.valLoss))] as uPlot.AlignedData);
  charts.accuracy.plot.setData([epochs, s.epochs.map((m) => m.testAccuracy), nullable(s.epochs.map((m) => m.valAccuracy)), s.epochs.map((m) => m.trainAccuracy)] as uPlot.AlignedData);
  charts.lr.plot.setData([epochs, s.epochs.map((m) => m.lr)] as uPlot.AlignedData);
  charts.train.el.dataset.points = String(s.trainLoss.length);
  charts.train.plot.setData([s.trainLoss.map((p) => p[0]), s.trainLoss.map((p) => p[1])] as uPlot.AlignedData);

  renderWorkers(live);
  if (s.state === 'finished') renderFinished(s);
}

function cell(row: HTMLTableRowElement, text: string, className = ''): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** The workers table's column names: on a narrow screen each row is a card whose cells carry them. */
const workerColumns = Array.from($<HTMLTableElement>('workers').tHead!.rows[0]!.cells, (c) => c.textContent ?? '');

function renderWorkers(workers: WorkerStatus[]): void {
  const body = ($<HTMLTableElement>('workers')).tBodies[0]!;
  body.replaceChildren();
  for (const w of workers) {
    const row = body.insertRow();
    row.dataset.worker = String(w.id);
    cell(row, String(w.id));
    cell(row, w.label, 'label').title = w.label;
    cell(row, w.address);
    cell(row, w.transport);
    cell(row, w.engine ?? '…');
    cell(row, num(w.slices), 'num');
    cell(row, w.sliceMedianMs === null ? '…' : w.sliceMedianMs.toFixed(2), 'num');
    cell(row, w.sliceP95Ms === null ? '…' : w.sliceP95Ms.toFixed(2), 'num');
    cell(row, bytes(w.bytesIn), 'num');
    cell(row, bytes(w.bytesOut), 'num');
    cell(row, clock(w.lastHeard));
    row.insertCell().append(sparkline(w.speed, `${w.label || w.address}: slices per second`));
    for (const [i, td] of Array.from(row.cells).entries()) td.dataset.label = workerColumns[i] ?? '';
  }
  $('no-workers').hidden = workers.length > 0;
}

let finishedShown = false;
function renderFinished(s: Status): void {
  if (finishedShown || (!s.confusion && !s.outputs)) return;
  finishedShown = true;
  $('finished').hidden = false;
  const table = $<HTMLTableElement>('confusion');
  if (s.confusion) {
    const head = table.createTHead().insertRow();
    head.append(document.createElement('th'));
    for (let k = 0; k < s.confusion.length; k++) {
      const th = document.createElement('th');
      th.textContent = String(k);
      head.append(th);
    }
    const body = table.createTBody();
    s.confusion.forEach((r, i) => {
      const row = body.insertRow();
      const th = document.createElement('th');
      th.textContent = String(i);
      row.append(th);
      r.forEach((n, j) => cell(row, num(n), i === j ? 'diag' : ''));
    });
  }
  const out = $('outputs');
  for (const [k, v] of Object.entries(s.outputs ?? {})) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    out.append(dt, dd);
  }
  // Pages on this server (the model's draw page): a path only, never another origin.
  for (const { label, href } of s.links ?? []) {
    if (!/^\/[^/\\]/.test(href)) continue;
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    const a = document.createElement('a');
    a.href = href;
    a.textContent = href;
    dd.append(a);
    out.append(dt, dd);
  }
}

const FEED_KEPT = 300;
function addEvent(e: RunEvent): void {
  const feed = $('feed');
  const li = document.createElement('li');
  li.dataset.kind = e.kind;
  li.dataset.reason = e.reason ?? '';
  const time = document.createElement('time');
  time.textContent = clock(e.at);
  const kind = document.createElement('span');
  kind.className = 'kind';
  kind.textContent = e.kind;
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = e.text;
  li.append(time, kind, text);
  feed.prepend(li);
  while (feed.children.length > FEED_KEPT) feed.lastElementChild!.remove();
}

/**
 * The join link (404 when the run has none), with a QR code for a phone on the same network when
 * the coordinator can be reached from one: the server says so (`reachable`, it listens beyond
 * loopback), which the link's host name alone cannot tell.
 */
async function showJoinLink(): Promise<void> {
  const response = await fetch('/join-link', { cache: 'no-store' });
  if (!response.ok) return;
  const { url, reachable } = (await response.json()) as { url: string; reachable: boolean };
  // Only a link to this run's own join page is shown (an http(s) URL whose path is /join/).
  if (!/^https?:\/\/[^/]+\/join\/#[A-Za-z0-9_-]+$/.test(url)) return;
  const a = $<HTMLAnchorElement>('join-link');
  a.href = url;
  a.textContent = url;
  if (reachable !== true) {
    // No other device can reach a coordinator on loopback: a QR code would only mislead a phone.
    $('join-qr').hidden = true;
    $('join-text').textContent =
      'A browser on this machine can compute for this run: open this link. The coordinator listens on loopback only; start it with --host 0.0.0.0 to let phones and other machines on the network join. The link admits computing only.';
  } else {
    $('join-qr').replaceChildren(qrCode(url, 'QR code of the join link'));
  }
  $('join').hidden = false;
}
showJoinLink().catch(() => {});

const source = new EventSource('/events');
source.addEventListener('status', (m) => render(JSON.parse((m as MessageEvent<string>).data) as Status));
source.addEventListener('feed', (m) => addEvent(JSON.parse((m as MessageEvent<string>).data) as RunEvent));
source.addEventListener('error', () => {
  const state = $('state');
  // The browser reconnects by itself (the server's retry:), resuming after the last event id.
  if (source.readyState !== EventSource.OPEN && !state.classList.contains('finished')) state.textContent = 'reconnecting…';
});
