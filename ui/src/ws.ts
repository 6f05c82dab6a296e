// Helpers for the attach WebSocket's base64 data fields.

export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** backoff is the wait before reconnect attempt n (0-based): 0.5 s doubling, at most 8 s. */
export function backoff(n: number): number {
  return Math.min(8000, 500 * 2 ** n);
}
