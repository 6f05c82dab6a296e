// The client of Paddock's public HTTP API. The secret (an API key or a login token) lives in
// sessionStorage only: it goes with the tab, and never appears in a URL.

const KEY = 'paddock.key';

export interface Sandbox {
  name: string; id: string; status: string; backend?: string; owner?: string; image?: string; profile?: string;
  vcpus?: number; memory_mb?: number; pids?: number; disk_mb?: number; network?: string;
  allow_out?: string[]; deny_out?: string[]; created_at: string; started_at?: string;
  expires_at?: string; on_expire?: string; labels?: Record<string, string>; reason?: string;
  template?: string; port?: number; public_ports?: number[]; traffic_token?: string;
}

export interface AuditEvent {
  id?: number; timestamp: string; event: string; sandbox?: string; actor?: string;
  request_id?: string; user_email?: string; details?: Record<string, unknown>;
}

export interface FileEntry { name: string; path: string; isDir: boolean; size: number }

export interface Usage { cpuMilli: number; memoryBytes: number }

export interface CellOutput { kind: string; name?: string; text?: string; data?: Record<string, string> }
export interface CellResult {
  status: string; output: string; stderr: string; return_value: string | null;
  execution_count: number; duration_ms: number;
  error?: { ename: string; evalue: string; traceback: string[] } | null; outputs?: CellOutput[];
}
export interface Kernel { kernel_id: string; name: string; language: string; sandbox: string; status: string }

/** ApiError is a failed call: the HTTP status and the server's public message. */
export class ApiError extends Error {
  constructor(public status: number, message: string) { super(message); }
}

export const session = {
  get(): string { return sessionStorage.getItem(KEY) || ''; },
  set(key: string) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

/** errorMessage reads the error out of any of the server's surface shapes. */
export function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    for (const k of ['error', 'message', 'detail']) {
      if (typeof b[k] === 'string' && b[k]) return b[k] as string;
    }
  }
  return status === 401 ? 'the key was not accepted' : `request failed (${status})`;
}

/** unwrap returns the data of an answer in any surface's envelope. */
export function unwrap<T>(body: unknown): T {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if ('success' in b && 'data' in b) return b.data as T; // native {success, data}
    if (b.code === '0' && 'data' in b) return b.data as T; // Agent-Sandbox {code, data}
  }
  return body as T;
}

/** enc encodes each segment of a sandbox path for a URL, keeping the slashes. */
export function encPath(p: string): string {
  return p.split('/').filter(Boolean).map(encodeURIComponent).join('/');
}

export async function call<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  const key = session.get();
  if (key) headers.set('X-API-Key', key);
  let payload: BodyInit | undefined;
  if (body instanceof Blob || body instanceof ReadableStream) {
    payload = body as BodyInit;
    headers.set('Content-Type', 'application/octet-stream');
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers.set('Content-Type', 'application/json');
  }
  const resp = await fetch(path, { ...init, method, headers, body: payload });
  const text = await resp.text();
  let parsed: unknown = text;
  if ((resp.headers.get('Content-Type') || '').includes('json') && text) {
    try { parsed = JSON.parse(text); } catch { /* keep the text */ }
  }
  if (!resp.ok) throw new ApiError(resp.status, errorMessage(resp.status, parsed));
  return unwrap<T>(parsed);
}

/** login checks a key (or an email and password, through /api/token) and keeps it. */
export async function login(key: string, email?: string, password?: string): Promise<void> {
  session.clear();
  if (email) {
    // OAuth2's password flow: a form, not JSON.
    const resp = await fetch('/api/token', { method: 'POST', body: new URLSearchParams({ username: email, password: password || '' }) });
    const body = await resp.json().catch(() => undefined);
    if (!resp.ok) throw new ApiError(resp.status, resp.status === 401 ? 'wrong email or password' : errorMessage(resp.status, body));
    key = (body as { access_token: string }).access_token;
  }
  const resp = await fetch('/sandboxes', { headers: { 'X-API-Key': key } });
  if (!resp.ok) {
    let body: unknown;
    try { body = await resp.json(); } catch { body = undefined; }
    throw new ApiError(resp.status, resp.status === 401 ? 'the key was not accepted' : errorMessage(resp.status, body));
  }
  session.set(key);
}

/** wsProtocols are the subprotocols that carry the key on a WebSocket (docs/ui.md). */
export function wsProtocols(key: string): string[] {
  const b64 = btoa(String.fromCharCode(...new TextEncoder().encode(key)))
    .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return ['paddock.v1', 'paddock.key.' + b64];
}

export function wsURL(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

export const api = {
  sandboxes: () => call<Sandbox[]>('GET', '/sandboxes'),
  sandbox: (n: string) => call<Sandbox>('GET', `/sandboxes/${encodeURIComponent(n)}`),
  create: (req: Record<string, unknown>) => call<Sandbox>('POST', '/sandboxes', req),
  action: (n: string, act: 'stop' | 'start') => call<Sandbox>('POST', `/sandboxes/${encodeURIComponent(n)}/${act}`),
  pause: (n: string) => call<unknown>('POST', `/api/v1/sandbox/pause/${encodeURIComponent(n)}`),
  resume: (n: string) => call<unknown>('POST', `/api/v1/sandbox/resume/${encodeURIComponent(n)}`),
  extend: (n: string, by: string) => call<Sandbox>('POST', `/sandboxes/${encodeURIComponent(n)}/extend`, { by }),
  remove: (n: string) => call<unknown>('DELETE', `/sandboxes/${encodeURIComponent(n)}`),
  logs: (n: string) => call<AuditEvent[]>('GET', `/sandboxes/${encodeURIComponent(n)}/logs`),
  setNetwork: (n: string, allow_out: string[], deny_out: string[]) =>
    call<Sandbox>('PUT', `/sandboxes/${encodeURIComponent(n)}/network`, { allow_out, deny_out }),
  usage: (names: string[]) =>
    call<{ items: Record<string, Usage> }>('POST', '/api/v1/sandbox/metrics', { names }),
  files: (n: string, dir: string) =>
    call<{ path: string; entries: FileEntry[] }>('GET', `/api/v1/sandbox/files/${encodeURIComponent(n)}?path=${encodeURIComponent(dir)}`),
  readFile: (n: string, p: string) =>
    call<{ path: string; size: number; encoding: string; content: string }>('GET', `/sandboxes/${encodeURIComponent(n)}/files/${encPath(p)}`),
  writeFile: (n: string, p: string, body: Blob) =>
    call<{ path: string; size: number }>('PUT', `/sandboxes/${encodeURIComponent(n)}/files/${encPath(p)}`, body),
  /** downloadURL asks for a short-lived URL that downloads the file without the key, so
   * that the browser streams it to disk (docs/ui.md). */
  downloadURL: (n: string, p: string) =>
    call<{ url: string; expires_at: string }>('POST', `/sandboxes/${encodeURIComponent(n)}/download-url`, { path: p }),
  download: async (n: string, p: string): Promise<Blob> => {
    const resp = await fetch(`/sandboxes/${encodeURIComponent(n)}/files/${encPath(p)}`,
      { headers: { 'X-API-Key': session.get(), Accept: 'application/octet-stream' } });
    if (!resp.ok) throw new ApiError(resp.status, `download failed (${resp.status})`);
    return resp.blob();
  },
  events: (q: URLSearchParams) => call<AuditEvent[]>('GET', `/events?${q}`),
  templates: () => call<Record<string, unknown>[]>('GET', '/templates'),
  pools: () => call<unknown>('GET', '/api/v1/pool'),
  metrics: async (): Promise<string> => {
    const resp = await fetch('/metrics', { headers: { 'X-API-Key': session.get() } });
    if (!resp.ok) throw new ApiError(resp.status, `metrics failed (${resp.status})`);
    return resp.text();
  },
  kernels: () => call<{ kernels: Kernel[] }>('GET', '/kernels'),
  createKernel: (name: string, sandbox: string, language: string) =>
    call<Kernel>('POST', '/kernels', { name, sandbox, language }),
  /** executeStream runs a cell with the streamed route and hands each server-sent event to
   * onEvent as it arrives; it resolves when the stream ends. */
  executeStream: async (id: string, code: string, language: string,
    onEvent: (event: string, data: string) => void, signal?: AbortSignal) => {
    await postEvents(`/kernels/${encodeURIComponent(id)}/execute/stream`, { code, language }, onEvent, signal);
  },
  restartKernel: (id: string) => call<Kernel>('POST', `/kernels/${encodeURIComponent(id)}/restart`),
};

// Trinity agents (docs/trinity.md).
export interface Agent {
  name: string; status: string; runtime?: string; type?: string; tags?: string[]; created?: string;
  resources?: { cpu?: string; memory?: string }; container_id?: string; port?: number;
  autonomy_enabled?: boolean; read_only_enabled?: boolean; owner?: string; id?: string;
  execution_timeout_seconds?: number; workspace_volume?: string;
}
export interface AgentStats {
  cpu_percent: number; memory_used_bytes: number; memory_limit_bytes: number; memory_percent: number;
  network_rx_bytes: number; network_tx_bytes: number; uptime_seconds: number; status: string;
}
export interface TreeNode { name: string; path: string; type: string; size?: number; modified?: string; children?: TreeNode[] }
export interface Schedule {
  id: string; name: string; cron_expression: string; message: string; command?: string; enabled: boolean;
  timezone: string; last_run_at?: string | null; next_run_at?: string | null;
}
export interface Execution {
  id: string; schedule_id: string; status: string; started_at: string; completed_at?: string | null;
  duration_ms?: number | null; message?: string; response?: string | null; error?: string | null;
}
export interface SSHAccess {
  connection: { command: string; host: string; port: number; user: string };
  expires_at: string; private_key?: string; instructions?: string[];
}

const ag = (n: string) => `/api/agents/${encodeURIComponent(n)}`;

export const agents = {
  list: () => call<Agent[]>('GET', '/api/agents'),
  get: (n: string) => call<Agent>('GET', ag(n)),
  create: (req: Record<string, unknown>) => call<Agent>('POST', '/api/agents', req),
  action: (n: string, act: 'start' | 'stop') => call<{ message: string }>('POST', `${ag(n)}/${act}`),
  remove: (n: string) => call<unknown>('DELETE', ag(n)),
  setAutonomy: (n: string, enabled: boolean) => call<unknown>('PUT', `${ag(n)}/autonomy`, { enabled }),
  logs: (n: string, tail: number) => call<{ logs: string }>('GET', `${ag(n)}/logs?tail=${tail}`),
  stats: (n: string) => call<AgentStats>('GET', `${ag(n)}/stats`),
  files: (n: string) => call<{ tree: TreeNode[]; total_files: number; truncated: boolean }>('GET', `${ag(n)}/files`),
  download: async (n: string, p: string): Promise<Blob> => {
    const resp = await fetch(`${ag(n)}/files/download?path=${encodeURIComponent(p)}`, { headers: { 'X-API-Key': session.get() } });
    if (!resp.ok) throw new ApiError(resp.status, `download failed (${resp.status})`);
    return resp.blob();
  },
  schedules: (n: string) => call<Schedule[]>('GET', `${ag(n)}/schedules`),
  addSchedule: (n: string, req: Record<string, unknown>) => call<Schedule>('POST', `${ag(n)}/schedules`, req),
  deleteSchedule: (n: string, id: string) => call<unknown>('DELETE', `${ag(n)}/schedules/${encodeURIComponent(id)}`),
  scheduleExecutions: (n: string, id: string) => call<Execution[]>('GET', `${ag(n)}/schedules/${encodeURIComponent(id)}/executions`),
  sshAccess: (n: string, ttl_hours: number) => call<SSHAccess>('POST', `${ag(n)}/ssh-access`, { ttl_hours }),
};

// Sandcaster runs (docs/sandcaster.md).
export interface Run {
  id: string; prompt: string; model?: string; status: string; startedAt: string; completedAt?: string | null;
  costUsd?: number; inputTokens?: number; outputTokens?: number; numTurns?: number; durationSecs?: number;
  error?: string | null; filesCount?: number; sessionId?: string | null;
}

export const runs = {
  list: () => call<Run[]>('GET', '/runs?limit=50'),
  get: (id: string) => call<Run & { events: Record<string, unknown>[] }>('GET', `/runs/${encodeURIComponent(id)}`),
};

// Accounts (docs/accounts.md).
export interface User { id: string; email: string; name: string; role: string; disabled: boolean; has_password: boolean; created_at: string }
export interface Me extends User { key_id?: string }
export interface APIKey { id: string; user_id: string; name: string; created_at: string; last_used_at?: string; expires_at?: string }

export const accounts = {
  me: () => call<Me>('GET', '/me'),
  keys: () => call<APIKey[]>('GET', '/me/keys'),
  createKey: (name: string, expires_in?: number) =>
    call<APIKey & { key: string }>('POST', '/me/keys', expires_in ? { name, expires_in } : { name }),
  revokeKey: (id: string) => call<unknown>('DELETE', `/me/keys/${encodeURIComponent(id)}`),
  users: () => call<User[]>('GET', '/users'),
  createUser: (req: Record<string, unknown>) => call<User>('POST', '/users', req),
};

/** postEvents POSTs body as JSON to path and reads the answer as server-sent events (fetch,
 * since EventSource cannot send the key), handing each event's name and data to onEvent as it
 * arrives; it resolves when the stream ends. A refusal before the stream is an ApiError. */
export async function postEvents(path: string, body: unknown, onEvent: (event: string, data: string) => void, signal?: AbortSignal) {
  const { SSEParser } = await import('./sse');
  const resp = await fetch(path, {
    method: 'POST', signal, body: JSON.stringify(body),
    headers: { 'X-API-Key': session.get(), 'Content-Type': 'application/json', Accept: 'text/event-stream' },
  });
  if (!resp.ok || !resp.body) {
    const answer = await resp.json().catch(() => undefined);
    throw new ApiError(resp.status, errorMessage(resp.status, answer));
  }
  const parser = new SSEParser();
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    for (const m of parser.push(value)) onEvent(m.event, m.data);
  }
}
