/**
 * @mnist-lr/watch: watching a run and serving a model. The run monitor (what /status, /metrics,
 * the live page and the terminal show), the dashboard that serves it, the draw page of a model,
 * and the one door both servers share (tokens, session cookies, slowed-down wrong tokens, the
 * login form, the security headers). Depends on core only: a coordinator feeds a monitor with
 * its events, an in-process run with its hooks.
 */
export * from './monitor/index.js';
export { createDashboard, type Dashboard, type DashboardOptions, type MountedHandler } from './dashboard/dashboard.js';
export type { JoinOptions } from './join/routes.js';
export { serveDashboard, type DashboardServer } from './dashboard/serve.js';
export {
  createPredictHandler,
  startPredictServer,
  type PredictHandlerOptions,
  type PredictServer,
  type PredictServerOptions,
} from './draw/server.js';
export type { ImageDecoder } from './draw/predict-route.js';
export type { PredictionAnswer } from './draw/answer.js';
export { AuthLimiter, type AuthLimiterOptions } from './http/auth-limiter.js';
export { isLoopbackHost } from './http/listen.js';
