/**
 * Who may look at a run (DESIGN.md §9). On loopback everyone may. Beyond loopback every route but
 * /healthz needs the run's token: an `Authorization: Bearer` header (curl, Prometheus's
 * bearer_token_file), or a session cookie that the login form sets. The cookie holds a random
 * session id, never the token; it is HttpOnly and SameSite=Strict, and Secure over TLS.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import { tokensEqual } from '@mnist-lr/core/protocol';

import { AuthLimiter, type AuthLimiterOptions } from '../transport/auth-limiter.js';

export const SESSION_COOKIE = 'mnist_lr_session';

export interface AuthOptions {
  token: string;
  /** No token needed (the server listens on loopback only). */
  open: boolean;
  /** Cookies get the Secure attribute (the server speaks https). */
  secure: boolean;
  /** How long a session lasts, milliseconds. Default 12 h. */
  sessionMs?: number;
  /** Limits on repeated wrong tokens at the login form (the same rules as for workers). */
  limits?: AuthLimiterOptions;
}

export class DashboardAuth {
  private readonly sessions = new Map<string, number>();
  private readonly limiter: AuthLimiter;
  private readonly sessionMs: number;

  constructor(private readonly options: AuthOptions) {
    this.limiter = new AuthLimiter(options.limits);
    this.sessionMs = options.sessionMs ?? 12 * 3600_000;
  }

  get open(): boolean {
    return this.options.open;
  }

  /**
   * Whether the request may see the run: 'yes', 'no', or the delay before answering a wrong
   * bearer token (repeated guesses from one address are slowed down, as for workers).
   */
  allowed(req: IncomingMessage): 'yes' | 'no' | { delayMs: number } {
    if (this.options.open) return 'yes';
    const address = req.socket.remoteAddress ?? '?';
    const h = req.headers.authorization;
    if (h?.startsWith('Bearer ')) {
      if (tokensEqual(h.slice('Bearer '.length), this.options.token)) return 'yes';
      const { delayMs } = this.limiter.fail(address);
      return delayMs > 0 ? { delayMs } : 'no';
    }
    const id = cookie(req, SESSION_COOKIE);
    if (id === undefined) return 'no';
    const until = this.sessions.get(id);
    if (until === undefined) return 'no';
    if (until < Date.now()) {
      this.sessions.delete(id);
      return 'no';
    }
    return 'yes';
  }

  /**
   * Checks a token typed into the login form. Returns the Set-Cookie value of a new session, or
   * null (with the delay to wait before answering, which grows with repeated failures).
   */
  login(address: string, token: string): { cookie: string } | { delayMs: number } {
    if (!tokensEqual(token, this.options.token)) return { delayMs: this.limiter.fail(address).delayMs };
    this.limiter.succeed(address);
    // Bounded: the oldest session goes first.
    if (this.sessions.size >= 1000) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, Date.now() + this.sessionMs);
    const attrs = ['Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${Math.floor(this.sessionMs / 1000)}`];
    if (this.options.secure) attrs.push('Secure');
    return { cookie: `${SESSION_COOKIE}=${id}; ${attrs.join('; ')}` };
  }
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
