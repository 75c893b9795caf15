/**
 * The draw page's script (runs in the browser): a person draws on the canvas with a mouse, pen or
 * finger, and while they draw the picture is sent to POST /predict as a PNG; the answer's
 * probabilities and the 28×28 image the model saw are shown. One request at a time: a stroke
 * that moves while a request is out is sent when the answer is back, so the page never queues
 * stale pictures.
 */

import type { PredictionAnswer as Answer } from '../../src/draw/answer.js';

interface ErrorAnswer {
  error: { code: string; message: string };
}

/** Stroke width relative to the canvas side: MNIST's strokes are about 2-3 px of 28. */
const STROKE = 0.09;

function element<T extends Element>(selector: string): T {
  const found = document.querySelector<T>(selector);
  if (found === null) throw new Error(`draw page: ${selector} is missing`);
  return found;
}

const pad = element<HTMLCanvasElement>('#pad');
const seen = element<HTMLCanvasElement>('#seen');
const label = element<HTMLOutputElement>('#label');
const status = element<HTMLParagraphElement>('#status');
const result = element<HTMLElement>('.result');
const rows = Array.from(document.querySelectorAll<HTMLLIElement>('#bars li'));
const ctx = pad.getContext('2d')!;
const seenCtx = seen.getContext('2d')!;

let drawing = false;
let inked = false;
let last: { x: number; y: number } | null = null;
let inFlight = false;
let dirty = false;

function clear(): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
  seenCtx.fillStyle = '#000';
  seenCtx.fillRect(0, 0, seen.width, seen.height);
  inked = false;
  dirty = false;
  label.textContent = '–';
  for (const row of rows) show(row, null, false);
  status.textContent = 'Draw a digit from 0 to 9.';
}

function point(e: PointerEvent): { x: number; y: number } {
  const box = pad.getBoundingClientRect();
  return { x: ((e.clientX - box.left) / box.width) * pad.width, y: ((e.clientY - box.top) / box.height) * pad.height };
}

function line(from: { x: number; y: number }, to: { x: number; y: number }): void {
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = STROKE * pad.width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.beginPath();
  if (from.x === to.x && from.y === to.y) {
    // A zero-length line is not stroked at all, caps included: a tap must still leave a dot.
    ctx.fillStyle = '#fff';
    ctx.arc(from.x, from.y, ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }
  inked = true;
}

pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  pad.setPointerCapture(e.pointerId);
  last = point(e);
  line(last, last);
  requestPrediction();
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing || last === null) return;
  const next = point(e);
  line(last, next);
  last = next;
  requestPrediction();
});
const stop = (): void => {
  if (!drawing) return;
  drawing = false;
  last = null;
  requestPrediction();
};
pad.addEventListener('pointerup', stop);
pad.addEventListener('pointercancel', stop);
element<HTMLButtonElement>('#clear').addEventListener('click', clear);

function requestPrediction(): void {
  if (!inked) return;
  if (inFlight) {
    dirty = true;
    return;
  }
  inFlight = true;
  dirty = false;
  // Busy from the moment a picture is taken until its answer is shown and nothing newer waits.
  result.setAttribute('aria-busy', 'true');
  pad.toBlob((blob) => {
    if (blob === null) {
      inFlight = false;
      result.setAttribute('aria-busy', 'false');
      return;
    }
    void send(blob).finally(() => {
      inFlight = false;
      if (dirty) requestPrediction();
      else result.setAttribute('aria-busy', 'false');
    });
  }, 'image/png');
}

async function send(png: Blob): Promise<void> {
  try {
    const res = await fetch('predict', { method: 'POST', headers: { 'content-type': 'image/png' }, body: png, credentials: 'same-origin' });
    const body = (await res.json()) as Answer | ErrorAnswer;
    if ('error' in body) {
      // A blank canvas (cleared mid-request) is not worth an alarm.
      status.textContent = body.error.code === 'IMAGE_BLANK' ? 'Draw a digit from 0 to 9.' : `${body.error.code}: ${body.error.message}`;
      return;
    }
    if (!inked) return;
    render(body);
  } catch (e) {
    status.textContent = `The server cannot be reached (${String(e)}).`;
  }
}

function render(a: Answer): void {
  label.textContent = String(a.label);
  rows.forEach((row, k) => show(row, a.probabilities[k] ?? 0, k === a.label));
  status.textContent = `It reads ${a.label}, with probability ${(a.probabilities[a.label] ?? 0).toFixed(3)}.`;
  const bytes = Uint8Array.from(atob(a.image), (c) => c.charCodeAt(0));
  const img = seenCtx.createImageData(28, 28);
  bytes.forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
  seenCtx.putImageData(img, 0, 0);
}

function show(row: HTMLLIElement, p: number | null, top: boolean): void {
  row.classList.toggle('top', top);
  // CSSOM, not a style attribute: the page's CSP allows no inline styles.
  row.querySelector<HTMLElement>('.fill')!.style.width = `${((p ?? 0) * 100).toFixed(1)}%`;
  row.querySelector<HTMLElement>('.value')!.textContent = p === null ? '–' : p.toFixed(3);
}

clear();
