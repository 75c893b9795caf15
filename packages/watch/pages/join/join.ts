/**
 * The join page: reads the join secret from the link's #fragment (which the browser never sent to
 * the server), hands it to the Web Worker that does the work (worker.ts), and shows what the tab
 * is doing. It polls /join/run (with the secret) for where the run is and how this tab's rate
 * compares with the run's median. Every string is set with textContent.
 */
import { JOIN_HEADER, JOIN_SECRET_PATTERN } from '@mnist-lr/core/browser';

import type { JoinSummary } from '../../src/join/join-schema.js';
import type { FromWorker, ToWorker } from './messages.js';

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el;
};

const num = (n: number): string => n.toLocaleString('en-US');
const rate = (r: number | null): string => (r === null ? '…' : num(Math.round(r)));

/** The page's state, as the tests and the stylesheet read it. */
function phase(name: string, connection: string, detail: string): void {
  document.body.dataset.phase = name;
  $('connection').textContent = connection;
  $('detail').textContent = detail;
}

const secret = decodeURIComponent(location.hash.slice(1));
if (!JOIN_SECRET_PATTERN.test(secret)) {
  phase('ended', 'not joined', 'This address lacks the join secret: open the whole join link, with the part after #, as the coordinator printed it or its dashboard shows it.');
  document.body.dataset.reason = 'NO_SECRET';
} else {
  start(secret);
}

function start(secret: string): void {
  const worker = new Worker('worker.js', { type: 'module' });
  const tell = (m: ToWorker): void => worker.postMessage(m);
  const leave = $('leave') as HTMLButtonElement;
  let workerId: number | null = null;
  let ended = false;
  let poll: number | undefined;

  leave.addEventListener('click', () => {
    leave.disabled = true;
    tell({ type: 'leave' });
  });
  // Closing the tab leaves too; the browser then closes the socket itself if the worker cannot.
  addEventListener('pagehide', () => tell({ type: 'leave' }));

  const refresh = async (): Promise<void> => {
    const query = workerId === null ? '' : `?worker=${workerId}`;
    const response = await fetch(`run${query}`, { headers: { [JOIN_HEADER]: secret }, cache: 'no-store' });
    if (!response.ok) return;
    const s = (await response.json()) as JoinSummary;
    $('run').textContent = s.run;
    $('step').textContent = `${num(s.step)} of ${num(s.steps)}`;
    $('epoch').textContent = `${s.epoch} of ${s.epochs}`;
    $('workers').textContent = String(s.workers);
    // Once the tab has left (or the run ended) the last rates stay up.
    if (s.worker === null && ended) return;
    $('median').textContent = rate(s.medianSamplesPerSecond);
    const mine = s.worker?.samplesPerSecond ?? null;
    $('rate').textContent = rate(mine);
    const ratio = $('ratio');
    if (mine !== null && s.medianSamplesPerSecond) {
      const x = mine / s.medianSamplesPerSecond;
      ratio.textContent = `${x.toFixed(2)}×`;
      ratio.className = x >= 1 ? 'faster' : 'slower';
    } else ratio.textContent = '…';
  };
  const refreshSoon = (): void => void refresh().catch(() => {});
  refreshSoon();
  poll = window.setInterval(refreshSoon, 2000);

  worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    switch (m.type) {
      case 'phase':
        if (!ended) phase(m.phase, m.phase === 'computing' ? 'connected' : m.phase === 'connecting' ? 'connecting' : 'getting ready', m.text);
        leave.disabled = m.phase === 'ended';
        $('progress').hidden = m.phase !== 'fetching';
        break;
      case 'progress': {
        const bar = $('progress') as HTMLProgressElement;
        bar.max = m.total ?? m.loaded;
        bar.value = m.loaded;
        $('detail').textContent = `downloading the dataset: ${(m.loaded / 1e6).toFixed(1)}${m.total ? ` of ${(m.total / 1e6).toFixed(1)}` : ''} MB`;
        break;
      }
      case 'engine':
        $('engine').textContent = m.engine;
        $('kernel').textContent = m.kernel;
        break;
      case 'data':
        $('data').textContent = m.from === 'cache' ? 'kept in this browser, checked' : `downloaded ${(m.bytes / 1e6).toFixed(1)} MB, checked`;
        document.body.dataset.data = m.from;
        break;
      case 'joined':
        workerId = m.workerId;
        $('worker-id').textContent = String(m.workerId);
        break;
      case 'slice':
        $('slices').textContent = num(m.slices);
        $('samples').textContent = num(m.samples);
        break;
      case 'ended':
        ended = true;
        window.clearInterval(poll);
        refreshSoon();
        document.body.dataset.reason = m.reason ?? 'ERROR';
        phase('ended', m.reason === 'RUN_COMPLETE' ? 'finished' : m.reason === 'WORKER_SHUTDOWN' ? 'left' : 'not connected', `${m.text}${m.retry ? ' Reload the page to join again.' : ''}`);
        leave.disabled = true;
        $('progress').hidden = true;
        worker.terminate();
        break;
    }
  });
  worker.addEventListener('error', (e) => {
    ended = true;
    phase('ended', 'not connected', `this tab's worker failed: ${e.message}`);
  });
  tell({ type: 'start', secret });
}
