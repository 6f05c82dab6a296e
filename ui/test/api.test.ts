import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, call, encPath, errorMessage, login, session, unwrap, wsProtocols } from '../src/api';
import { backoff, fromBase64, toBase64 } from '../src/ws';
import { joinPath, parentPath } from '../src/pages/files';

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.has(k) ? this.m.get(k)! : null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
  removeItem(k: string) { this.m.delete(k); }
}

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('api client', () => {
  let fetchMock: ReturnType<typeof vi.fn>;
  beforeEach(() => {
    vi.stubGlobal('sessionStorage', new MemStorage());
    vi.stubGlobal('localStorage', new MemStorage());
    fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('unwraps every surface envelope', () => {
    expect(unwrap({ success: true, data: [1] })).toEqual([1]);
    expect(unwrap({ code: '0', data: { a: 1 } })).toEqual({ a: 1 });
    expect(unwrap({ kernels: [] })).toEqual({ kernels: [] });
  });
  it('reads errors of every surface shape', () => {
    expect(errorMessage(404, { success: false, error: 'sandbox "x" not found' })).toBe('sandbox "x" not found');
    expect(errorMessage(400, { code: '400', message: 'bad' })).toBe('bad');
    expect(errorMessage(409, { detail: 'busy' })).toBe('busy');
    expect(errorMessage(401, 'x')).toBe('the key was not accepted');
  });
  it('keeps the key in sessionStorage only, and sends it as a header', async () => {
    fetchMock.mockResolvedValueOnce(answer(200, { success: true, data: [] }));
    await login('e2b_good');
    expect(session.get()).toBe('e2b_good');
    expect((localStorage as unknown as MemStorage).m.size).toBe(0);
    fetchMock.mockResolvedValueOnce(answer(200, { success: true, data: [{ name: 'a' }] }));
    expect(await call('GET', '/sandboxes')).toEqual([{ name: 'a' }]);
    const [url, init] = fetchMock.mock.calls[1];
    expect(url).toBe('/sandboxes');
    expect(new Headers(init.headers).get('X-API-Key')).toBe('e2b_good');
  });
  it('a wrong key is an error and is not kept', async () => {
    fetchMock.mockResolvedValueOnce(answer(401, { success: false, error: 'unauthenticated' }));
    await expect(login('e2b_bad')).rejects.toThrow('the key was not accepted');
    expect(session.get()).toBe('');
  });
  it('logs in with email and password through the OAuth2 form', async () => {
    fetchMock.mockResolvedValueOnce(answer(200, { access_token: 'jwt.abc', token_type: 'bearer' }));
    fetchMock.mockResolvedValueOnce(answer(200, { success: true, data: [] }));
    await login('', 'a@b.c', 'pw');
    const body = fetchMock.mock.calls[0][1].body as URLSearchParams;
    expect(body.get('username')).toBe('a@b.c');
    expect(session.get()).toBe('jwt.abc');
  });
  it('throws ApiError with the status', async () => {
    fetchMock.mockResolvedValueOnce(answer(409, { success: false, error: 'name taken' }));
    const err = await call("POST", "/sandboxes", {}).catch((e: ApiError) => e) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.message).toBe('name taken');
  });
  it('carries the key as a base64url WebSocket subprotocol', () => {
    const [proto, key] = wsProtocols('e2b_ab/+?é');
    expect(proto).toBe('paddock.v1');
    expect(key).toMatch(/^paddock\.key\.[A-Za-z0-9_-]+$/);
    const b64 = key.slice('paddock.key.'.length).replace(/-/g, '+').replace(/_/g, '/');
    expect(new TextDecoder().decode(Uint8Array.from(atob(b64), c => c.charCodeAt(0)))).toBe('e2b_ab/+?é');
  });
  it('encodes file paths by segment', () => {
    expect(encPath('/tmp/a b/c#d')).toBe('tmp/a%20b/c%23d');
  });
});

describe('helpers', () => {
  it('base64 round trip', () => {
    const b = new Uint8Array([0, 1, 255, 10, 200]);
    expect(fromBase64(toBase64(b))).toEqual(b);
  });
  it('backoff', () => {
    expect([0, 1, 2, 5, 10].map(backoff)).toEqual([500, 1000, 2000, 8000, 8000]);
  });
  it('paths', () => {
    expect(joinPath('/tmp', 'a.txt')).toBe('/tmp/a.txt');
    expect(joinPath('/', 'a.txt')).toBe('/a.txt');
    expect(parentPath('/tmp/x')).toBe('/tmp');
    expect(parentPath('/tmp')).toBe('/');
    expect(parentPath('/')).toBe('/');
  });
});
