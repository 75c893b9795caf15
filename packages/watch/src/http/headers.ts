/**
 * Headers on every answer of every server of this package. The Content-Security-Policy allows
 * the page's own scripts, styles, images and connections only: no inline script or style,
 * nothing from another host, no framing, forms posting back here only. (No `data:` images: the
 * draw page paints what the model saw into a canvas, and the dashboard's sparklines are SVG. No
 * Cross-Origin-Opener-Policy either: the pages open no windows, and browsers reject the header,
 * with a console error, on plain http beyond loopback, where these servers often run.)
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The join page's policy: the same, and WebAssembly may be compiled ('wasm-unsafe-eval', which
 * allows compiling modules and nothing else: no eval of strings). Its Web Worker, whose policy is
 * that of its own script's response, compiles the kernel; the page's connections (its data
 * requests and the worker's WebSocket) go to this server only ('self' covers ws: and wss: here).
 */
export const JOIN_PAGE_CSP = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};
