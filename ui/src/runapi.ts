// Sandcaster's sessions (docs/sandcaster.md) and the event stream that /query, /sessions and
// a session's next message all answer.
import { ApiError, call, errorMessage, session } from './api';

export interface Session {
  id: string; status: string; sandboxId?: string; createdAt: string; lastActivityAt?: string; idleTimeoutMs?: number;
  runsCount: number; totalCostUsd?: number; totalTurns?: number; name?: string | null; endReason?: string | null;
}
export interface SessionRun { id: string; prompt: string; startedAt: string; costUsd?: number; numTurns?: number; durationSecs?: number; status: string }

/** stream POSTs req to path and hands each event to onEvent as it streams; it resolves when
 * the stream ends. */
export async function stream(path: string, req: unknown, onEvent: (ev: Record<string, unknown>) => void, signal?: AbortSignal) {
  const { SSEParser } = await import('./sse');
  const resp = await fetch(path, {
    method: 'POST', signal, body: JSON.stringify(req),
    headers: { 'X-API-Key': session.get(), 'Content-Type': 'application/json', Accept: 'text/event-stream' },
  });
  if (!resp.ok || !resp.body) {
    const body = await resp.json().catch(() => undefined);
    throw new ApiError(resp.status, errorMessage(resp.status, body));
  }
  const parser = new SSEParser();
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const m of parser.push(value)) {
      try { onEvent(JSON.parse(m.data)); } catch { /* not JSON: not an event of ours */ }
    }
  }
}

const s = (id: string) => `/sessions/${encodeURIComponent(id)}`;

export const sessions = {
  list: () => call<Session[]>('GET', '/sessions?limit=50'),
  get: (id: string) => call<Session & { runs: SessionRun[] }>('GET', s(id)),
  end: (id: string) => call<unknown>('DELETE', s(id)),
  messagePath: (id: string) => `${s(id)}/messages`,
};
