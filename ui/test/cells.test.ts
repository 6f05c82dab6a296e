import { describe, expect, it } from 'vitest';
import { applyCellEvent, CellView } from '../src/cells';

describe('applyCellEvent', () => {
  it('joins text of one stream, keeps others apart, and ends with the result', () => {
    let v: CellView = { outputs: [] };
    const ev: [string, unknown][] = [
      ['output', { kind: 'stream', name: 'stdout', text: '0' }],
      ['output', { kind: 'stream', name: 'stdout', text: '\n' }],
      ['output', { kind: 'stream', name: 'stderr', text: 'warn\n' }],
      ['output', { kind: 'stream', name: 'stdout', text: '1\n' }],
      ['output', { kind: 'display_data', data: { 'image/png': 'AAAA' } }],
      ['done', { status: 'success', execution_count: 3, duration_ms: 5, outputs: [] }],
    ];
    const seen: number[] = [];
    for (const [e, d] of ev) { v = applyCellEvent(v, e, JSON.stringify(d)); seen.push(v.outputs.length); }
    expect(seen).toEqual([1, 1, 2, 3, 4, 4]);
    expect(v.outputs[0]).toEqual({ kind: 'stream', name: 'stdout', text: '0\n' });
    expect(v.outputs[2].text).toBe('1\n');
    expect(v.result?.status).toBe('success');
    expect(v.error).toBeUndefined();
  });
  it('keeps the error that ended the stream, and ignores what it does not know', () => {
    let v: CellView = { outputs: [] };
    v = applyCellEvent(v, 'ping', '{}');
    v = applyCellEvent(v, 'output', 'not json');
    v = applyCellEvent(v, 'error', JSON.stringify({ message: 'sandbox "x" is stopped, not running' }));
    expect(v).toEqual({ outputs: [], error: 'sandbox "x" is stopped, not running' });
  });
});
