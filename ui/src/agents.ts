// The agents pages' own logic, kept apart from the components so that Vitest can test it.
import type { Execution, TreeNode } from './api';

export interface FlatNode { path: string; name: string; depth: number; dir: boolean; size?: number }

/** flatten lists a workspace tree depth first (directories before files, each by name), with
 * each entry's depth, for a table that indents it. */
export function flatten(nodes: TreeNode[], depth = 0, out: FlatNode[] = []): FlatNode[] {
  const sorted = [...nodes].sort((a, b) =>
    (a.type === 'directory' ? 0 : 1) - (b.type === 'directory' ? 0 : 1) || a.name.localeCompare(b.name));
  for (const n of sorted) {
    const dir = n.type === 'directory';
    out.push({ path: n.path, name: n.name, depth, dir, size: n.size });
    if (dir && n.children) flatten(n.children, depth + 1, out);
  }
  return out;
}

/** scheduleRequest turns the add-schedule form into the POST body: a command, or a message for
 * the agent's runtime, is required; the message labels a command (docs/trinity.md). */
export function scheduleRequest(f: { name?: string; cron?: string; kind?: string; text?: string; timezone?: string }):
  Record<string, unknown> {
  const name = (f.name || '').trim(), cron = (f.cron || '').trim(), text = (f.text || '').trim();
  if (!name) throw new Error('name: required');
  if (!cron) throw new Error('cron: required');
  if (!text) throw new Error(f.kind === 'message' ? 'message: required' : 'command: required');
  const req: Record<string, unknown> = { name, cron_expression: cron, enabled: true };
  if (f.kind === 'message') req.message = text;
  else { req.command = text; req.message = name; }
  if (f.timezone && f.timezone.trim()) req.timezone = f.timezone.trim();
  return req;
}

/** agentName applies Trinity's naming rule, to show what name a typed one becomes. */
export function agentName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_.-]/g, '-').replace(/-+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/-+$/, '');
}

/** mergeRuns merges schedules' executions, newest first, keeping at most limit. */
export function mergeRuns(lists: Execution[][], limit = 50): Execution[] {
  return lists.flat().sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at)).slice(0, limit);
}

/** parseTags reads tags typed with commas or spaces as Trinity stores them: lowercased,
 * trimmed, deduplicated, sorted; letters, digits and `-`, at most 50 characters each. */
export function parseTags(s: string): string[] {
  const tags = [...new Set(s.split(/[\s,]+/).map(t => t.trim().toLowerCase()).filter(Boolean))].sort();
  for (const t of tags) {
    if (!/^[a-z0-9-]{1,50}$/.test(t)) throw new Error(`tags: "${t}": use letters, digits and -, at most 50 characters`);
  }
  return tags;
}

/** timeoutSeconds reads an execution timeout given in minutes: a whole number of seconds
 * from 60 to 7200, as the server takes. */
export function timeoutSeconds(minutes: string): number {
  const s = Math.round(Number(minutes) * 60);
  if (!minutes.trim() || !Number.isFinite(s) || s < 60 || s > 7200) throw new Error('timeout: from 1 to 120 minutes');
  return s;
}

/** parsePatterns reads glob patterns, one a line (or comma separated), which must be relative. */
export function parsePatterns(s: string): string[] {
  const ps = s.split(/[\n,]+/).map(p => p.trim()).filter(Boolean);
  for (const p of ps) {
    if (p.startsWith('/') || p.split('/').includes('..')) throw new Error(`pattern "${p}": must be relative, without ..`);
  }
  return ps;
}

/** credentialFiles checks a credential to inject: a relative workspace path and its text. */
export function credentialFiles(path: string, content: string): Record<string, string> {
  const p = path.trim();
  if (!p) throw new Error('path: required');
  if (p.startsWith('/') || p.split('/').includes('..')) throw new Error(`path "${p}": relative to the workspace, without ..`);
  if (p.endsWith('/')) throw new Error(`path "${p}": names a directory`);
  return { [p]: content };
}
