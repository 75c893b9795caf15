/**
 * The one door of the dashboard and the draw page, over real sockets: a bearer token or a
 * session cookie lets a request through; sessions expire; wrong tokens, by header or by form,
 * are slowed down per address and share one limiter; a browser gets the login form, a script a
 * coded 401; the form's own routes work before anyone has logged in.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { bearerToken } from '@mnist-lr/core/protocol';

import { AuthLimiter } from './auth-limiter.js';
import { createGate } from './gate.js';
import { listenHttp, type Listening } from './listen.js';
import { sendText } from './respond.js';

const TOKEN = 'door-token';
let server: Listening | undefined;
afterEach(async () => server?.close());

/** A server whose every route but the gate's own answers "inside" to those the gate lets in. */
async function behindGate(options: Partial<Parameters<typeof createGate>[0]> = {}): Promise<string> {
  const gate = createGate({ token: TOKEN, open: false, log: () => {}, ...options });
  server = await listenHttp((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (gate.answers(req, res, path)) return;
    gate.admit(req, res, path, () => sendText(res, 200, 'inside'));
  });
  return server.url;
}

const login = (base: string, token: string): Promise<Response> =>
  fetch(new URL('/login', base), { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });

describe('bearerToken, the parser this door shares with the worker upgrade', () => {
  it('reads the scheme in any case and drops the spaces around the token; other schemes are not it', () => {
    expect(bearerToken(`Bearer ${TOKEN}`)).toBe(TOKEN);
    expect(bearerToken(`bEaReR   ${TOKEN}  `)).toBe(TOKEN);
    expect(bearerToken('Bearer ')).toBe('');
    for (const header of [undefined, '', 'Bearer', `Basic ${TOKEN}`, `Bearer-${TOKEN}`, `Bearer\t${TOKEN}`]) expect(bearerToken(header), header).toBeUndefined();
  });
});

describe('the gate', () => {
  it('lets the token in by header (any case of the scheme) or by session, and nothing else', async () => {
    const base = await behindGate();
    expect((await fetch(new URL('/x', base), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(new URL('/x', base), { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    const refused = await fetch(new URL('/x', base));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="mnist-lr"');
    expect(await refused.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    // A browser, or the page's own address, gets the login form; its stylesheet is public.
    const form = await fetch(new URL('/x', base), { headers: { accept: 'text/html' } });
    expect([form.status, form.headers.get('content-type')]).toEqual([401, 'text/html; charset=utf-8']);
    expect(await form.text()).toContain('<form method="post" action="/login">');
    expect((await fetch(new URL('/', base))).headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await fetch(new URL('/login.css', base))).status).toBe(200);

    expect((await login(base, 'guess')).status).toBe(401);
    const ok = await login(base, TOKEN);
    expect([ok.status, ok.headers.get('location')]).toEqual([303, '/']);
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^mnist_lr_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    const session = cookie.split(';')[0]!;
    expect((await fetch(new URL('/x', base), { headers: { cookie: `other=1; ${session}` } })).status).toBe(200);
    expect((await fetch(new URL('/x', base), { headers: { cookie: 'mnist_lr_session=forged' } })).status).toBe(401);
  });

  it('ends a session when it expires, and marks its cookie Secure over TLS', async () => {
    let now = 1_000_000;
    const base = await behindGate({ sessionMs: 60_000, secure: true, now: () => now });
    const cookie = (await login(base, TOKEN)).headers.get('set-cookie')!;
    expect(cookie).toMatch(/; Max-Age=60; Secure$/);
    const session = { cookie: cookie.split(';')[0]! };
    now += 59_000;
    expect((await fetch(new URL('/x', base), { headers: session })).status).toBe(200);
    now += 2_000;
    expect((await fetch(new URL('/x', base), { headers: session })).status).toBe(401);
  });

  it('slows down wrong tokens from one address, by header and by form alike, in the limiter it is given', async () => {
    const limiter = new AuthLimiter({ freeFailures: 2, baseDelayMs: 300, maxDelayMs: 300, forgetAfterMs: 600_000, maxTracked: 10 });
    const base = await behindGate({ limiter });
    const timed = async (f: () => Promise<Response>): Promise<[number, number]> => {
      const t = performance.now();
      const r = await f();
      return [r.status, performance.now() - t];
    };
    expect((await fetch(new URL('/x', base), { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await login(base, 'wrong')).status).toBe(401);
    // The third failure from this address, whichever way it comes, is answered only after the delay.
    const [status, ms] = await timed(() => fetch(new URL('/x', base), { headers: { authorization: 'Bearer wrong' } }));
    expect(status).toBe(401);
    expect(ms).toBeGreaterThanOrEqual(300 - 1);
    // All three went into the one limiter (a worker's upgrade would count there too).
    expect(limiter.fail('127.0.0.1').count).toBe(4);
  });

  it('is open on loopback: no token asked, and the login form only sends a browser back', async () => {
    const base = await behindGate({ open: true, token: undefined });
    expect((await fetch(new URL('/x', base))).status).toBe(200);
    const back = await login(base, 'anything');
    expect([back.status, back.headers.get('location'), back.headers.get('set-cookie')]).toEqual([303, '/', null]);
  });
});
