// Server-sent events read over fetch (EventSource cannot send the key in a header), and the
// view of a Sandcaster run that its events build (docs/sandcaster.md).

export interface SSEMessage { event: string; data: string }

/** SSEParser splits a text/event-stream into messages as chunks arrive: fields may be cut
 * anywhere between chunks; lines end in \n, \r\n or \r; comments (":") are skipped. */
export class SSEParser {
  private buf = '';
  private event = '';
  private data: string[] = [];

  push(chunk: string): SSEMessage[] {
    this.buf += chunk;
    const out: SSEMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (!m || (m[0] === '\r' && m.index === this.buf.length - 1)) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      if (line === '') {
        if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n') });
        this.event = ''; this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
    }
    return out;
  }
}

export interface RunEvent {
  type: string; subtype?: string; content?: string; toolName?: string; isError?: boolean; path?: string;
  costUsd?: number; inputTokens?: number; outputTokens?: number; numTurns?: number; durationSecs?: number;
  model?: string; code?: string; hint?: string; sandboxId?: string;
}

/** A RunItem is one block of the run's view: assistant text (grown by deltas), a tool call
 * with its result, or a note (system, file, stderr, warning). */
export type RunItem =
  | { kind: 'text'; text: string; done: boolean }
  | { kind: 'thinking'; text: string; done: boolean }
  | { kind: 'tool'; name: string; input: string; result?: string; isError?: boolean }
  | { kind: 'note'; type: string; text: string };

export interface RunView { items: RunItem[]; result?: RunEvent; error?: RunEvent }

/** applyEvent folds one event into the view, returning a new view. */
export function applyEvent(v: RunView, ev: RunEvent): RunView {
  const items = [...v.items];
  const last = items[items.length - 1];
  switch (ev.type) {
    case 'assistant':
    case 'thinking': {
      const kind = ev.type === 'assistant' ? 'text' : 'thinking';
      const open = last && last.kind === kind && !last.done ? last : undefined;
      if (ev.subtype === 'complete') {
        const text = ev.content || '';
        if (open) items[items.length - 1] = { kind, text, done: true };
        else items.push({ kind, text, done: true });
      } else if (open) items[items.length - 1] = { ...open, text: open.text + (ev.content || '') };
      else items.push({ kind, text: ev.content || '', done: false });
      break;
    }
    case 'tool_use':
      items.push({ kind: 'tool', name: ev.toolName || '', input: ev.content || '' });
      break;
    case 'tool_result': {
      // The result belongs to the newest call of that tool still without one.
      for (let i = items.length - 1; i >= 0; i--) {
        const it = items[i];
        if (it.kind === 'tool' && it.result === undefined && it.name === ev.toolName) {
          items[i] = { ...it, result: ev.content || '', isError: !!ev.isError };
          return { ...v, items };
        }
      }
      items.push({ kind: 'tool', name: ev.toolName || '', input: '', result: ev.content || '', isError: !!ev.isError });
      break;
    }
    case 'result': return { ...v, items, result: ev };
    case 'error': return { ...v, items, error: ev };
    case 'file': items.push({ kind: 'note', type: 'file', text: ev.path || '' }); break;
    default: items.push({ kind: 'note', type: ev.type + (ev.subtype ? ` ${ev.subtype}` : ''), text: ev.content || '' });
  }
  return { ...v, items };
}

/** usd writes a cost: $0.0123, or <$0.0001. */
export function usd(n: number | undefined): string {
  if (n === undefined || n === null) return '';
  if (n > 0 && n < 0.0001) return '<$0.0001';
  return '$' + n.toFixed(4);
}
