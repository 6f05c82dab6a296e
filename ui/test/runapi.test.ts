import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stream } from '../src/runapi';

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.has(k) ? this.m.get(k)! : null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

/** sse answers an event stream sent in the given chunks. */
function sse(chunks: string[]) {
  const enc = new TextEncoder();
  const body = new ReadableStream({ start(c) { for (const x of chunks) c.enqueue(enc.encode(x)); c.close(); } });
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
}

describe('stream', () => {
  let fetchMock: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    const s = new MemStorage();
    s.setItem('paddock.key', 'e2b_k');
    vi.stubGlobal('sessionStorage', s);
    fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('posts the request with the key and hands over each event, however the stream is cut', async () => {
    fetchMock.mockResolvedValueOnce(sse(['data: {"type":"session_cre', 'ated","sessionId":"s1"}\n\n: ping\n\ndata: not json\n\n',
      'data: {"type":"result","numTurns":1}\n', '\n']));
    const got: unknown[] = [];
    await stream('/sessions/s1/messages', { prompt: 'hi' }, ev => got.push(ev));
    expect(got).toEqual([{ type: 'session_created', sessionId: 's1' }, { type: 'result', numTurns: 1 }]);
    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/sessions/s1/messages');
    expect(init.method).toBe('POST');
    expect(JSON.parse(init.body)).toEqual({ prompt: 'hi' });
    expect(init.headers['X-API-Key']).toBe('e2b_k');
  });
  it('throws the server\'s message when it refuses before the stream', async () => {
    fetchMock.mockResolvedValueOnce(new Response(JSON.stringify({ error: 'session expired: idle for 15m0s', code: 'SESSION_EXPIRED' }),
      { status: 410, headers: { 'Content-Type': 'application/json' } }));
    await expect(stream('/sessions/s1/messages', { prompt: 'x' }, () => {})).rejects.toMatchObject(
      { status: 410, message: 'session expired: idle for 15m0s' });
  });
});
