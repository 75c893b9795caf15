/**
 * The HTTP surface on a server of its own, for runs with no coordinator (`train --workers 0
 * --dashboard`): loopback by default, so open without a token.
 */
import { checkOptions } from '@mnist-lr/core/engine';

import { LISTEN_OPTIONS, listenAt, listenHttp } from '../http/listen.js';
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
    ...LISTEN_OPTIONS,
    pushIntervalMs: { kind: 'integer', min: 10, max: 2 ** 31 - 1 },
  });
  const { host, open } = listenAt(options, 'serveDashboard()');
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
