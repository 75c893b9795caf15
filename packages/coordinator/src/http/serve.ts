/**
 * The HTTP surface on a server of its own, for runs with no coordinator (`train --workers 0
 * --dashboard`): loopback by default, so open without a token.
 */
import { createServer } from 'node:http';
import { MnistLrError } from '@mnist-lr/core';
import type { AddressInfo } from 'node:net';

import { createDashboard, type Dashboard } from './dashboard.js';
import type { RunMonitor } from '../observe/run-monitor.js';

export interface DashboardServer {
  url: string;
  dashboard: Dashboard;
  close(): Promise<void>;
}

/** Serves a monitor's HTTP surface (/, /status, /metrics, /healthz, /readyz, /events) on a server of its own; loopback and a free port by default. */
export async function serveDashboard(options: { monitor: RunMonitor; host?: string; port?: number; token?: string; pushIntervalMs?: number }): Promise<DashboardServer> {
  const host = options.host ?? '127.0.0.1';
  const open = isLoopbackHost(host);
  if (!open && !options.token) throw new MnistLrError('BAD_OPTION', `serving the dashboard on ${host} lets other machines look: it needs the run's token`);
  const dashboard = createDashboard({ monitor: options.monitor, token: options.token ?? '', open, secure: false, pushIntervalMs: options.pushIntervalMs });
  const server = createServer((req, res) => dashboard.handle(req, res));
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    dashboard,
    close: () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** 127.0.0.0/8, ::1 and localhost: nothing beyond this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
