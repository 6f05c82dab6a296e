import { describe, expect, it } from 'vitest';
import { applyEvent, RunView, SSEParser, usd } from '../src/sse';

describe('SSEParser', () => {
  it('reads events cut anywhere between chunks', () => {
    const text = 'event: assistant\ndata: {"type":"assistant","content":"Hel"}\n\n: ping\n\nevent: result\r\ndata: {"a":1}\r\ndata: {"b":2}\r\n\r\n';
    for (const size of [1, 2, 5, 7, text.length]) {
      const p = new SSEParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.push(text.slice(i, i + size)));
      expect(got).toEqual([
        { event: 'assistant', data: '{"type":"assistant","content":"Hel"}' },
        { event: 'result', data: '{"a":1}\n{"b":2}' },
      ]);
    }
  });
  it('keeps an unfinished event until its blank line', () => {
    const p = new SSEParser();
    expect(p.push('data: x\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', data: 'x' }]);
  });
});

describe('applyEvent', () => {
  it('grows text by deltas, pairs tool calls with results, ends with the result', () => {
    let v: RunView = { items: [] };
    for (const ev of [
      { type: 'system', subtype: 'sandbox_created', content: 'sandbox sb1' },
      { type: 'assistant', subtype: 'delta', content: 'Let me ' },
      { type: 'assistant', subtype: 'delta', content: 'check.' },
      { type: 'assistant', subtype: 'complete', content: 'Let me check.' },
      { type: 'tool_use', toolName: 'bash', content: '{"command":"echo 42"}' },
      { type: 'tool_result', toolName: 'bash', content: '42\n' },
      { type: 'assistant', subtype: 'delta', content: '42' },
      { type: 'result', subtype: 'success', content: '42', costUsd: 0.0021 },
    ]) v = applyEvent(v, ev);
    expect(v.items).toEqual([
      { kind: 'note', type: 'system sandbox_created', text: 'sandbox sb1' },
      { kind: 'text', text: 'Let me check.', done: true },
      { kind: 'tool', name: 'bash', input: '{"command":"echo 42"}', result: '42\n', isError: false },
      { kind: 'text', text: '42', done: false },
    ]);
    expect(v.result?.costUsd).toBe(0.0021);
  });
  it('keeps an error', () => {
    expect(applyEvent({ items: [] }, { type: 'error', code: 'TIMEOUT', content: 'too slow' }).error?.code).toBe('TIMEOUT');
  });
});

describe('usd', () => {
  it('writes costs', () => {
    expect(usd(0.0123)).toBe('$0.0123');
    expect(usd(0.00001)).toBe('<$0.0001');
    expect(usd(undefined)).toBe('');
  });
});
