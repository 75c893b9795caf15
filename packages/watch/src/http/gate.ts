/**
 * The door of every server of this package, in HTTP terms: it lets a request through (see
 * access.ts for who may pass), or answers it with the login form (a browser) or a coded 401
 * (anything else), after the delay that a repeated wrong token earns. It owns the two routes
 * that must work before anyone has logged in: POST /login and GET /login.css.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { MnistLrError } from '@mnist-lr/core/engine';

import { Access, type AccessOptions } from './access.js';
import { loginStylesheet } from './assets.js';
import { HeldAnswers } from './held.js';
import { loginPage } from './login-page.js';
import { readBody, send, sendError, sendHtml } from './respond.js';

/** A login form body is a token and little else. */
const LOGIN_BODY = { maxBytes: 4096, timeoutMs: 10_000, hint: 'the login form sends a token only' };

const CHALLENGE = { 'www-authenticate': 'Bearer realm="mnist-lr"' };

export interface Gate {
  /** Answers POST /login and GET /login.css; false for every other request (left to the caller). */
  answers(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  /** Calls `next` if `req` may pass, else answers it (see above). */
  admit(req: IncomingMessage, res: ServerResponse, path: string, next: () => void): void;
}

export function createGate(options: AccessOptions & { log?: (line: string) => void }): Gate {
  const access = new Access(options);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stylesheet = loginStylesheet();
  // After a guesser's penalty, or at once; bounded in how many wait.
  const held = new HeldAnswers();
  const later = (res: ServerResponse, delayMs: number, answer: () => void): void => held.later(res, delayMs, answer);

  const refuse = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const browser = (req.method === 'GET' || req.method === 'HEAD') && (path === '/' || (req.headers.accept ?? '').includes('text/html'));
    if (browser) return sendHtml(res, 401, loginPage(), CHALLENGE);
    res.setHeader('www-authenticate', CHALLENGE['www-authenticate']);
    sendError(res, new MnistLrError('UNAUTHORIZED', 'this server needs its token: send "Authorization: Bearer TOKEN", or log in at /'), log);
  };

  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req, LOGIN_BODY);
    // Nothing to log in to on loopback: back to the page.
    if (access.open) return send(res, 303, 'text/plain; charset=utf-8', 'no token needed here\n', { location: '/' });
    const token = new URLSearchParams(body.toString('utf8')).get('token') ?? '';
    const outcome = access.login(req.socket.remoteAddress ?? '?', token.trim());
    if ('cookie' in outcome) return send(res, 303, 'text/plain; charset=utf-8', 'logged in\n', { location: '/', 'set-cookie': outcome.cookie });
    later(res, outcome.delayMs, () => sendHtml(res, 401, loginPage('That is not the token this server was started with.')));
  };

  return {
    answers(req, res, path) {
      if (path === '/login' && req.method === 'POST') {
        login(req, res).catch((e: unknown) => sendError(res, e, log));
        return true;
      }
      if (path === '/login.css' && (req.method === 'GET' || req.method === 'HEAD') && stylesheet) {
        send(res, 200, stylesheet.type, stylesheet.body, { 'cache-control': 'no-cache' });
        return true;
      }
      return false;
    },
    admit(req, res, path, next) {
      const verdict = access.check(req);
      if (verdict === 'yes') return next();
      later(res, verdict === 'no' ? 0 : verdict.delayMs, () => refuse(req, res, path));
    },
  };
}
