/**
 * GET /metrics: the Prometheus text format through prom-client. Its default process metrics, and
 * the run's counters and gauges, all prefixed mnist_lr_. Nothing is updated per step: every value
 * is read from the RunMonitor when Prometheus scrapes (prom-client's collect()).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';

import type { ReasonCounts, RunMonitor } from '../monitor/run-monitor.js';
import { RUN_STATES } from '../monitor/run-states.js';

const P = 'mnist_lr_';

/**
 * The scrape's text, without the samples whose value is not known yet: prom-client writes its
 * event-loop lag gauges as "Nan" until the loop has been sampled (a scrape just after start), and
 * an unknown value is left out, as for the run's own gauges below.
 */
export async function scrape(registry: Registry): Promise<string> {
  return (await registry.metrics()).replace(/^[^#\n][^\n]* Nan\n/gm, '');
}

export function metricsRegistry(monitor: RunMonitor): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: P });
  const registers = [registry];

  /** A counter whose value is read from the monitor at scrape time. */
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name: P + name, help, registers, collect(this: Counter) {
      this.reset();
      this.inc(read());
    } });
  };
  /** A counter per reason code. */
  const byReason = (name: string, help: string, read: () => ReasonCounts): void => {
    new Counter({ name: P + name, help, labelNames: ['reason'], registers, collect(this: Counter<'reason'>) {
      this.reset();
      for (const [reason, n] of Object.entries(read())) if (n !== undefined) this.inc({ reason }, n);
    } });
  };
  /**
   * A gauge read at scrape time. An unknown value (no rate yet, no epoch finished) is left out of
   * the scrape, as Prometheus expects, rather than written as NaN (which prom-client spells "Nan").
   */
  const gauge = (name: string, help: string, read: () => number | null): void => {
    registry.registerMetric(custom(P + name, help, 'gauge', () => {
      const v = read();
      return v === null || !Number.isFinite(v) ? [] : [{ metricName: P + name, labels: {}, value: v }];
    }));
  };

  counter('steps_total', 'Optimiser steps taken in this process.', () => monitor.counters.steps);
  counter('worker_joins_total', 'Workers that completed the handshake.', () => monitor.counters.joins);
  byReason('worker_leaves_total', 'Workers that left, by reason code (evictions included).', () => monitor.counters.leaves);
  byReason('worker_evictions_total', 'Workers the coordinator closed for a fault, by reason code.', () => monitor.keptCounts.evictions);
  byReason('connections_refused_total', 'Connections refused before joining, by reason code.', () => monitor.keptCounts.refused);
  byReason('slice_reassignments_total', 'Slices given to another worker after theirs was lost, by reason code.', () => monitor.counters.reassignments);
  counter('slice_backups_total', 'Slow slices also sent to a backup worker.', () => monitor.counters.backups);
  counter('checkpoints_total', 'Checkpoints written.', () => monitor.counters.checkpoints);
  counter('lr_decays_total', 'Learning-rate decays applied.', () => monitor.counters.decays);
  counter('received_bytes_total', 'WebSocket payload bytes received from workers.', () => monitor.keptCounts.traffic.bytesIn);
  counter('sent_bytes_total', 'WebSocket payload bytes sent to workers.', () => monitor.keptCounts.traffic.bytesOut);

  gauge('workers', 'Workers connected now.', () => monitor.connectedWorkers());
  gauge('epochs_done', 'Epochs finished.', () => monitor.epochsDone());
  gauge('epochs', 'Epochs in the run.', () => monitor.info.config.num_epoches);
  gauge('learning_rate', 'Learning rate of the epoch in progress.', () => monitor.learningRate());
  gauge('steps_per_second', 'Steps per second lately (absent while not training).', () => monitor.stepsPerSecond());
  gauge('eta_seconds', 'Seconds until the run ends, estimated (absent while unknown).', () => monitor.etaSeconds().run);
  gauge('test_accuracy', 'Test accuracy after the last finished epoch (absent before).', () => last(monitor)?.testAccuracy ?? null);
  gauge('test_loss', 'Mean test loss after the last finished epoch (absent before).', () => last(monitor)?.testLoss ?? null);
  new Gauge({ name: `${P}state`, help: 'The run state: 1 for the current one.', labelNames: ['state'], registers, collect(this: Gauge<'state'>) {
    for (const s of RUN_STATES) this.set({ state: s }, s === monitor.state ? 1 : 0);
  } });
  registry.registerMetric(stepHistogram(monitor));
  return registry;
}

function last(monitor: RunMonitor): { testAccuracy: number; testLoss: number } | undefined {
  return monitor.lastEpoch();
}

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A metric in prom-client's registry whose samples are computed at scrape time by `read`: for
 * values prom-client's own classes cannot hold (an absent gauge, bucket counts kept elsewhere).
 */
function custom(name: string, help: string, type: 'gauge' | 'histogram', read: () => Sample[]): Metric {
  const metric = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: read() }) };
  return metric as unknown as Metric;
}

/**
 * mnist_lr_step_seconds from the monitor's own bucket counts (see StepHistogram): cumulative
 * buckets, sum and count, as Prometheus expects.
 */
function stepHistogram(monitor: RunMonitor): Metric {
  const name = `${P}step_seconds`;
  return custom(name, 'Time of one optimiser step (from the end of the previous one), seconds.', 'histogram', () => {
    const h = monitor.stepTimes;
    const values: Sample[] = [];
    let cumulative = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cumulative += h.counts[i]!;
      values.push({ metricName: `${name}_bucket`, labels: { le: Number(h.bounds[i]!.toPrecision(6)) }, value: cumulative });
    }
    values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count });
    values.push({ metricName: `${name}_sum`, labels: {}, value: h.sum });
    values.push({ metricName: `${name}_count`, labels: {}, value: h.count });
    return values;
  });
}
