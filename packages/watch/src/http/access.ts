/**
 * Who may use a server of this package (DESIGN.md §9): the run's dashboard and the draw page.
 * A server that listens on loopback only is open. Beyond loopback every route but the health
 * check needs the token: an `Authorization: Bearer` header (curl, Prometheus's credentials
 * file), or a session cookie that the login form sets. The cookie holds a random session id,
 * never the token; it is HttpOnly and SameSite=Strict, Secure over TLS, and expires. Wrong
 * tokens, by header or by form, are slowed down per address as wrong worker tokens are.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { bearerToken, tokensEqual } from '@mnist-lr/core/protocol';

import { AuthLimiter } from './auth-limiter.js';

export const SESSION_COOKIE = 'mnist_lr_session';

/** Sessions kept at most; past it the oldest is forgotten (its browser logs in again). */
const MAX_SESSIONS = 1000;

export interface AccessOptions {
  /** The token asked beyond loopback; required unless `open`. */
  token?: string;
  /** No token needed: the server listens on loopback only. */
  open: boolean;
  /** Cookies get the Secure attribute (the server speaks https). */
  secure?: boolean;
  /** How long a session lasts, milliseconds. Default 12 h. */
  sessionMs?: number;
  /**
   * Where wrong tokens are counted and delayed. Default: one of this server's own. A coordinator
   * passes the limiter of its worker upgrades, so that a guesser gets no more tries by asking
   * both doors.
   */
  limiter?: AuthLimiter;
  /** Wall clock for session expiry, ms. Default Date.now. */
  now?: () => number;
}

/** Whether a request may pass: yes, no, or no after a delay (a repeated wrong token). */
export type Verdict = 'yes' | 'no' | { delayMs: number };

export class Access {
  private readonly sessions = new Map<string, number>();
  private readonly limiter: AuthLimiter;
  private readonly sessionMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AccessOptions) {
    if (!options.open && !options.token) throw new Error('Access: a server beyond loopback needs a token');
    this.limiter = options.limiter ?? new AuthLimiter();
    this.sessionMs = options.sessionMs ?? 12 * 3600_000;
    this.now = options.now ?? Date.now;
  }

  get open(): boolean {
    return this.options.open;
  }

  /** Whether `req` carries the token or a live session (always yes on an open server). */
  check(req: IncomingMessage): Verdict {
    if (this.options.open) return 'yes';
    const bearer = bearerToken(req.headers.authorization);
    if (bearer !== undefined) {
      if (tokensEqual(bearer, this.options.token!)) return 'yes';
      const { delayMs } = this.limiter.fail(req.socket.remoteAddress ?? '?');
      return delayMs > 0 ? { delayMs } : 'no';
    }
    const id = cookie(req, SESSION_COOKIE);
    const until = id === undefined ? undefined : this.sessions.get(id);
    if (until === undefined) return 'no';
    if (until < this.now()) {
      this.sessions.delete(id!);
      return 'no';
    }
    return 'yes';
  }

  /**
   * Checks a token typed into the login form from `address`: the Set-Cookie value of a new
   * session, or the delay before answering a wrong one (which grows with repeated failures).
   */
  login(address: string, token: string): { cookie: string } | { delayMs: number } {
    if (!tokensEqual(token, this.options.token ?? '')) return { delayMs: this.limiter.fail(address).delayMs };
    this.limiter.succeed(address);
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, this.now() + this.sessionMs);
    const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(this.sessionMs / 1000)}`];
    if (this.options.secure) attrs.push('Secure');
    return { cookie: `${SESSION_COOKIE}=${id}; ${attrs.join('; ')}` };
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
