/** Answers of this package's servers, each with the security headers; coded errors; bounded request bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { MnistLrError, isMnistLrError, type ErrorCode } from '@mnist-lr/core/engine';

import { SECURITY_HEADERS } from './headers.js';

/** Answers `body` with `status`, this package's security headers and no caching unless `extra` says otherwise. */
export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

/** A line of plain text (and a newline). */
export function sendText(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  send(res, status, 'text/plain; charset=utf-8', `${text}\n`, extra);
}

export function sendHtml(res: ServerResponse, status: number, html: string, extra: Record<string, string> = {}): void {
  send(res, status, 'text/html; charset=utf-8', html, extra);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), extra);
}

/** The HTTP status each coded error is answered with. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  IMAGE_BAD: 400,
  IMAGE_BLANK: 422,
  REQUEST_BAD: 400,
  REQUEST_TOO_LARGE: 413,
  REQUEST_TIMEOUT: 408,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
};

/**
 * Answers with `{ "error": { "code", "message" } }`. A coded error keeps its code; anything else
 * is a bug and answers 500 without details (they stay in the server's log).
 */
export function sendError(res: ServerResponse, e: unknown, log: (line: string) => void): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isMnistLrError(e)) {
    // The unread rest of a refused body would otherwise be parsed as the next request.
    const close: Record<string, string> = e.code === 'REQUEST_TOO_LARGE' || e.code === 'REQUEST_TIMEOUT' ? { connection: 'close' } : {};
    sendJson(res, STATUS[e.code] ?? 400, { error: { code: e.code, message: e.message } }, close);
    return;
  }
  log(`unexpected error (a bug): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  sendJson(res, 500, { error: { code: 'INTERNAL', message: 'the server failed; see its log' } });
}

export interface BodyLimits {
  /** Largest body read, in bytes. */
  maxBytes: number;
  /** Time for the whole body to arrive, in milliseconds. */
  timeoutMs: number;
  /** What to send instead, for the error's message ("send a smaller image"). */
  hint?: string;
}

/**
 * The request's body, at most `maxBytes`, within `timeoutMs`. A declared Content-Length over the
 * limit is refused before reading; a body that grows past it or takes too long is cut off.
 * Rejects with REQUEST_TOO_LARGE or REQUEST_TIMEOUT.
 */
export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const tooLarge = (): MnistLrError =>
    new MnistLrError('REQUEST_TOO_LARGE', `request body over the ${limits.maxBytes.toLocaleString('en-US')} bytes this server reads${limits.hint ? `; ${limits.hint}` : ''}`);
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limits.maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (e?: MnistLrError): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (e) {
        // Stop reading; the error answer closes the connection.
        req.pause();
        reject(e);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limits.maxBytes) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish();
    const onError = (e: Error): void => finish(new MnistLrError('REQUEST_BAD', `request body could not be read (${e.message})`));
    const timer = setTimeout(
      () => finish(new MnistLrError('REQUEST_TIMEOUT', `request body did not arrive within ${limits.timeoutMs / 1000} s; send it at once`)),
      limits.timeoutMs,
    );
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
