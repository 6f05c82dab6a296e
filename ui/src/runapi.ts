// Sandcaster's sessions (docs/sandcaster.md) and the event stream that /query, /sessions and
// a session's next message all answer.
import { call, postEvents } from './api';

export interface Session {
  id: string; status: string; sandboxId?: string; createdAt: string; lastActivityAt?: string; idleTimeoutMs?: number;
  runsCount: number; totalCostUsd?: number; totalTurns?: number; name?: string | null; endReason?: string | null;
}
export interface SessionRun { id: string; prompt: string; startedAt: string; costUsd?: number; numTurns?: number; durationSecs?: number; status: string }

/** stream POSTs req to path and hands each event to onEvent as it streams; it resolves when
 * the stream ends. */
export async function stream(path: string, req: unknown, onEvent: (ev: Record<string, unknown>) => void, signal?: AbortSignal) {
  await postEvents(path, req, (_event, data) => {
    try { onEvent(JSON.parse(data)); } catch { /* not JSON: not an event of ours */ }
  }, signal);
}

const s = (id: string) => `/sessions/${encodeURIComponent(id)}`;

export const sessions = {
  list: () => call<Session[]>('GET', '/sessions?limit=50'),
  get: (id: string) => call<Session & { runs: SessionRun[] }>('GET', s(id)),
  end: (id: string) => call<unknown>('DELETE', s(id)),
  messagePath: (id: string) => `${s(id)}/messages`,
};
