// The runs page's own logic, kept apart from the components so that Vitest can test it.

/** TOOLS are Sandcaster's tools (docs/sandcaster.md). */
export const TOOLS = ['bash', 'read_file', 'write_file', 'edit_file', 'list_files', 'run_code', 'web_fetch'];

export interface RunForm {
  prompt: string; model: string; provider: string; maxTurns: string; timeout: string; thinkingLevel: string;
  template: string; tools: string[]; files: Record<string, string>; session: boolean; sessionName: string;
}

export const emptyRunForm = (): RunForm => ({
  prompt: '', model: 'sonnet', provider: '', maxTurns: '', timeout: '', thinkingLevel: '', template: '',
  tools: [...TOOLS], files: {}, session: false, sessionName: '',
});

const MAX_FILES = 20, MAX_BYTES = 10 << 20;

function int(s: string, name: string, min: number, max: number): number | undefined {
  if (!s.trim()) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: a whole number from ${min} to ${max}`);
  return n;
}

/** runRequest builds the body of POST /query (or POST /sessions) from the form: only the
 * options that were set, so the server's defaults (and sandcaster.json's) apply to the rest;
 * allowedTools only when some tool is left out. */
export function runRequest(f: RunForm): Record<string, unknown> {
  const req: Record<string, unknown> = { prompt: f.prompt };
  if (!f.prompt.trim()) throw new Error('prompt: required');
  if (f.model.trim()) req.model = f.model.trim();
  if (f.provider) req.provider = f.provider;
  const turns = int(f.maxTurns, 'max turns', 1, 1000), timeout = int(f.timeout, 'timeout', 5, 3600);
  if (turns !== undefined) req.maxTurns = turns;
  if (timeout !== undefined) req.timeout = timeout;
  if (f.thinkingLevel) req.thinkingLevel = f.thinkingLevel;
  if (f.template.trim()) req.sandboxProvider = f.template.trim();
  if (!f.tools.length) throw new Error('tools: allow at least one');
  if (f.tools.length < TOOLS.length) req.allowedTools = TOOLS.filter(t => f.tools.includes(t));
  const files = Object.entries(f.files);
  if (files.length > MAX_FILES) throw new Error(`files: at most ${MAX_FILES}`);
  if (files.reduce((n, [, c]) => n + new TextEncoder().encode(c).length, 0) > MAX_BYTES) throw new Error('files: at most 10 MB in all');
  if (files.length) req.files = f.files;
  if (f.session && f.sessionName.trim()) req.sessionConfig = { name: f.sessionName.trim().slice(0, 100) };
  return req;
}
