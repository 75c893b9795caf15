/**
 * The HTTP surface on a server of its own, for runs with no coordinator (`train --workers 0
 * --dashboard`): loopback by default, so open without a token.
 */
import { checkOptions, MnistLrError } from '@mnist-lr/core';

import { isLoopbackHost, listenHttp } from '../http/listen.js';
import type { RunMonitor } from '../monitor/run-monitor.js';
import { createDashboard, type Dashboard } from './dashboard.js';

export interface DashboardServer {
  /** http://host:port/ of the dashboard. */
  url: string;
  dashboard: Dashboard;
  close(): Promise<void>;
}

/** Serves a monitor's HTTP surface (/, /status, /metrics, /healthz, /readyz, /events) on a server of its own; loopback and a free port by default. */
export async function serveDashboard(options: { monitor: RunMonitor; host?: string; port?: number; token?: string; pushIntervalMs?: number }): Promise<DashboardServer> {
  checkOptions(options, 'serveDashboard()', {
    monitor: { kind: 'object', required: true },
    host: { kind: 'string', nonEmpty: true },
    port: { kind: 'integer', min: 0, max: 65_535 },
    token: { kind: 'string', nonEmpty: true },
    pushIntervalMs: { kind: 'integer', min: 10, max: 2 ** 31 - 1 },
  });
  const host = options.host ?? '127.0.0.1';
  const open = isLoopbackHost(host);
  if (!open && !options.token) throw new MnistLrError('BAD_OPTION', `serving the dashboard on ${host} lets other machines look: it needs the run's token`);
  const dashboard = createDashboard({ monitor: options.monitor, token: options.token, open, pushIntervalMs: options.pushIntervalMs });
  const listening = await listenHttp((req, res) => dashboard.handle(req, res), { host, port: options.port });
  return {
    url: listening.url,
    dashboard,
    close: async () => {
      dashboard.close();
      await listening.close();
    },
  };
}
