/**
 * `@mnist-lr/coordinator/observe`: watching a run without the transport. The run monitor and the
 * ETA helpers, for programs that train in-process: the package root also loads the coordinator,
 * ws and msgpackr.
 */
export { RunMonitor, type RunInfo, type RunMonitorOptions } from './run-monitor.js';
export { eta, remaining, formatEta, RateMeter, type Remaining } from './eta.js';
