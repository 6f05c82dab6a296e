// The users page's own logic, kept apart from the components so that Vitest can test it.
import type { User } from './api';
import type { Quota } from './userapi';

export interface UserForm { name: string; role: string; disabled: boolean; password: string }

/** userPatch is the PATCH body for an edited user: only the fields that changed (a password
 * only when one was typed); null when nothing did. */
export function userPatch(u: User, f: UserForm): Record<string, unknown> | null {
  const req: Record<string, unknown> = {};
  if (f.name.trim() !== (u.name || '')) req.name = f.name.trim();
  if (f.role !== u.role) req.role = f.role;
  if (f.disabled !== u.disabled) req.disabled = f.disabled;
  if (f.password) req.password = f.password;
  return Object.keys(req).length ? req : null;
}

export const QUOTA_FIELDS: [keyof Quota, string][] = [
  ['sandboxes', 'Running sandboxes'], ['memory_mb', 'Memory (MB)'], ['vcpus', 'vCPUs'],
  ['creates_per_minute', 'Creates per minute'], ['sessions', 'Code sessions'],
];

/** quotaRequest reads the quota form: whole numbers from 0 (no limit); an empty field is
 * left out, so the server keeps its value. */
export function quotaRequest(f: Record<string, string>): Quota {
  const q: Quota = {};
  for (const [k, label] of QUOTA_FIELDS) {
    const s = (f[k] ?? '').trim();
    if (!s) continue;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${label}: a whole number, 0 for no limit`);
    q[k] = n;
  }
  return q;
}
