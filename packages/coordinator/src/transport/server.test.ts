/**
 * The endpoint's close over real sockets on 127.0.0.1: a peer already told why its connection ends
 * must read that reason, even when it is still sending (a late answer) as the coordinator closes.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AuthLimiter } from '@mnist-lr/watch';
import { REASONS } from '@mnist-lr/core/protocol';
import { withTimeout } from '../../../../test/helpers/chaos.js';
import { listen } from './server.js';

const TOKEN = 'endpoint-close-test';
const ROUNDS = 10;
/** Longest wait for a connection to open or close. */
const WAIT_MS = 5000;

/** One round: a client that never stops sending is closed with RUN_COMPLETE, then the endpoint closes at once. */
async function closeWhileSending(): Promise<number> {
  let accepted: WebSocket | undefined;
  const endpoint = await listen({ host: '127.0.0.1', port: 0, token: TOKEN, limiter: new AuthLimiter(), onConnection: (ws) => (accepted = ws) });
  const client = new WebSocket(endpoint.url, { headers: { authorization: `Bearer ${TOKEN}` } });
  client.on('error', () => {});
  const flood = setInterval(() => {
    for (let i = 0; i < 20 && client.readyState === client.OPEN; i++) client.send(Buffer.alloc(2000));
  }, 0);
  try {
    await withTimeout(new Promise((resolve) => client.once('open', resolve)), WAIT_MS, 'the client to connect');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closed = new Promise<number>((resolve) => client.once('close', resolve));
    accepted!.close(REASONS.RUN_COMPLETE.close, 'training is complete');
    await withTimeout(endpoint.close(), WAIT_MS, 'the endpoint to close');
    return await withTimeout(closed, WAIT_MS, 'the client to see its connection close');
  } finally {
    clearInterval(flood);
    client.terminate();
  }
}

describe('closing the endpoint', () => {
  it('lets a peer that is still sending finish its closing handshake and read the reason, not 1006', async () => {
    const codes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) codes.push(await closeWhileSending());
    expect(codes).toEqual(Array(ROUNDS).fill(REASONS.RUN_COMPLETE.close));
  });
});
