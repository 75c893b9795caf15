/**
 * Loss and accuracy trend plots of a training run, as PNG bytes.
 *
 * Pipeline: a Vega-Lite spec (line + points per series) → compiled to Vega → rendered
 * headless to SVG by vega's View (`renderer: 'none'`) → rasterised by resvg at 800 px wide.
 * No canvas is involved: vega estimates text widths, resvg lays out text with system fonts
 * (DejaVu Sans), so the same input gives the same bytes on the same machine.
 */
import { unwritable } from '@mnist-lr/core/engine';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import { Resvg } from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';

import { View, compile, parse } from './vega.js';

/** What the plots read of an epoch's metrics (structurally compatible with core's EpochMetrics). */
export interface EpochLike {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testLossSum: number;
  testAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** Rendered PNG files of one run. */
export interface PlotImages {
  loss: Buffer;
  accuracy: Buffer;
}

/** Width of the output PNG in pixels. */
export const PLOT_PNG_WIDTH = 800;

const CHART_WIDTH = 640;
const CHART_HEIGHT = 360;
const FONT = 'DejaVu Sans, sans-serif';

interface Series {
  label: string;
  color: string;
  value: (e: EpochLike) => number | undefined;
}

interface Point {
  epoch: number;
  series: string;
  value: number;
}

/** Render the loss and accuracy plots of a run. `title` is usually the config name. */
export async function renderPlots(epochs: readonly EpochLike[], title: string): Promise<PlotImages> {
  if (epochs.length === 0) throw new Error(`renderPlots(${title}): no epochs to plot`);
  const sorted = [...epochs].sort((a, b) => a.epoch - b.epoch);
  const hasVal = (key: 'valLoss' | 'valAccuracy'): boolean =>
    sorted.some((e) => typeof e[key] === 'number' && Number.isFinite(e[key]));

  const lossSeries: Series[] = [
    { label: 'training loss', color: '#1f77b4', value: (e) => e.trainLoss },
    { label: 'test loss', color: '#d62728', value: (e) => e.testLoss },
  ];
  if (hasVal('valLoss')) {
    lossSeries.push({ label: 'validation loss', color: '#2ca02c', value: (e) => e.valLoss });
  }
  const accuracySeries: Series[] = [
    { label: 'test accuracy', color: '#d62728', value: (e) => e.testAccuracy },
  ];
  if (hasVal('valAccuracy')) {
    accuracySeries.push({ label: 'validation accuracy', color: '#2ca02c', value: (e) => e.valAccuracy });
  }

  const loss = await renderPng(
    chartSpec(sorted, lossSeries, `${title}: loss per epoch`, 'mean cross-entropy loss per image', undefined, 'top-right'),
  );
  const accuracy = await renderPng(
    chartSpec(sorted, accuracySeries, `${title}: test accuracy per epoch`, 'accuracy', '%', 'bottom-right'),
  );
  return { loss, accuracy };
}

/** Render both plots and write them as PNG files, creating the folders as needed. */
export async function writePlots(
  epochs: readonly EpochLike[],
  title: string,
  lossPath: string,
  accuracyPath: string,
): Promise<void> {
  const { loss, accuracy } = await renderPlots(epochs, title);
  for (const [path, png] of [[lossPath, loss], [accuracyPath, accuracy]] as const) {
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, png);
    } catch (e) {
      throw unwritable(path, e);
    }
  }
}

function chartSpec(
  epochs: readonly EpochLike[],
  series: Series[],
  title: string,
  yTitle: string,
  yFormat: string | undefined,
  legendOrient: 'top-right' | 'bottom-right',
): TopLevelSpec {
  const values: Point[] = [];
  for (const e of epochs) {
    for (const s of series) {
      const v = s.value(e);
      // A diverged run may log null/NaN: leave the point out rather than breaking the scale.
      if (typeof v === 'number' && Number.isFinite(v)) values.push({ epoch: e.epoch, series: s.label, value: v });
    }
  }
  const first = epochs[0]?.epoch ?? 1;
  const last = epochs[epochs.length - 1]?.epoch ?? first;
  const span = last - first;
  // One tick per epoch while that stays legible, otherwise the first epoch and round multiples.
  const step = span <= 25 ? 1 : span <= 50 ? 2 : span <= 125 ? 5 : span <= 250 ? 10 : Math.ceil(span / 250) * 10;
  const ticks: number[] = [first];
  for (let t = (Math.floor(first / step) + 1) * step; t <= last; t += step) {
    if (step === 1 || t - first >= step / 2) ticks.push(t);
  }
  // Points on every epoch help up to a few dozen epochs; beyond, they only clutter the line.
  const pointSize = epochs.length <= 30 ? 50 : epochs.length <= 120 ? 16 : 0;
  // A single-epoch run still needs a non-empty domain.
  const domain = span === 0 ? [first - 1, first + 1] : [first, last];

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    padding: 12,
    background: 'white',
    title: { text: title, fontSize: 18, anchor: 'start', offset: 12 },
    data: { values },
    mark: { type: 'line', point: pointSize > 0 ? { filled: true, size: pointSize } : false, strokeWidth: 2, clip: true },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epoch',
        scale: { domain, nice: false, zero: false, padding: 12 },
        axis: { values: ticks, format: 'd', grid: true, labelFlush: false },
      },
      y: {
        field: 'value',
        type: 'quantitative',
        title: yTitle,
        scale: { zero: false, nice: true, padding: 8 },
        axis: { ...(yFormat === undefined ? {} : { format: yFormat }), grid: true, tickCount: 8 },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: series.map((s) => s.label),
        scale: { domain: series.map((s) => s.label), range: series.map((s) => s.color) },
        legend: {
          orient: legendOrient,
          direction: 'vertical',
          fillColor: 'white',
          strokeColor: '#bbbbbb',
          padding: 8,
          cornerRadius: 3,
          symbolType: 'stroke',
          symbolStrokeWidth: 3,
          symbolSize: 250,
        },
      },
    },
    config: {
      font: FONT,
      title: { font: FONT },
      axis: { labelFont: FONT, titleFont: FONT, labelFontSize: 13, titleFontSize: 14, titleFontWeight: 'normal' },
      legend: { labelFont: FONT, titleFont: FONT, labelFontSize: 14, labelLimit: 0 },
      view: { stroke: '#888888' },
    },
  };
}

async function renderPng(spec: TopLevelSpec): Promise<Buffer> {
  const vg = compile(spec).spec;
  const view = new View(parse(vg), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const resvg = new Resvg(svg, {
      fitTo: { mode: 'width', value: PLOT_PNG_WIDTH },
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
      background: 'white',
    });
    return resvg.render().asPng();
  } finally {
    view.finalize();
  }
}
