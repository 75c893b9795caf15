/**
 * Who may use the prediction server. Loopback is open; from anywhere else every route but
 * /healthz needs the token: as `Authorization: Bearer TOKEN` (scripts), or a session cookie that
 * the login form sets (people with a browser). The token is never put in a URL, a page or a log.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { tokensEqual } from '@mnist-lr/core/protocol';

import { isLoopback } from '../token.js';

export const SESSION_COOKIE = 'mnist_lr_session';

/** Sessions kept at most; the oldest is forgotten first (its browser logs in again). */
const MAX_SESSIONS = 1000;

export class Access {
  private readonly sessions = new Set<string>();

  /** `token`: required beyond loopback; undefined when the server listens on loopback only. */
  constructor(private readonly token: string | undefined) {}

  /** True when the request comes from this machine or carries the token or a live session. */
  allows(req: IncomingMessage): boolean {
    const from = req.socket.remoteAddress ?? '';
    if (isLoopback(from.replace(/^::ffff:/, ''))) return true;
    if (this.token === undefined) return false;
    const auth = req.headers.authorization;
    if (auth !== undefined && /^Bearer /i.test(auth) && tokensEqual(auth.slice(7).trim(), this.token)) return true;
    const session = cookie(req, SESSION_COOKIE);
    return session !== undefined && this.sessions.has(session);
  }

  /** A new session id when `given` is the token, else undefined. */
  login(given: string): string | undefined {
    if (this.token === undefined || !tokensEqual(given, this.token)) return undefined;
    const id = randomBytes(32).toString('hex');
    this.sessions.add(id);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.values().next().value!);
    return id;
  }
}

/** The value of cookie `name` in the request, if any. */
function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value for session `id`: not readable by scripts, not sent by other sites. */
export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`;
}
