/** @mnist-lr/core/protocol: the wire protocol shared by coordinator and worker. */
export * from './messages.js';
export * from './reasons.js';
export * from './codec.js';
export { bearerToken, tokensEqual } from './token.js';
export * from './join.js';
export { inert, LABEL_MAX, TEXT_MAX } from './inert.js';
export * from './plane/index.js';
