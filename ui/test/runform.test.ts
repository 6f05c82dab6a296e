import { describe, expect, it } from 'vitest';
import { emptyRunForm, runRequest, TOOLS } from '../src/runform';

const form = (over: object) => ({ ...emptyRunForm(), prompt: 'hi', ...over });

describe('runRequest', () => {
  it('sends only the prompt and the model by default', () =>
    expect(runRequest(form({}))).toEqual({ prompt: 'hi', model: 'sonnet' }));
  it('sends the options that are set', () => {
    expect(runRequest(form({ model: '', provider: 'openai', maxTurns: '5', timeout: ' 60 ', thinkingLevel: 'low', template: ' py ',
      tools: ['run_code', 'bash'], files: { 'a.txt': 'A' } }))).toEqual({
      prompt: 'hi', provider: 'openai', maxTurns: 5, timeout: 60, thinkingLevel: 'low', sandboxProvider: 'py',
      allowedTools: ['bash', 'run_code'], files: { 'a.txt': 'A' },
    });
  });
  it('names a session only when it is one', () => {
    expect(runRequest(form({ session: true, sessionName: ' demo ' })).sessionConfig).toEqual({ name: 'demo' });
    expect(runRequest(form({ session: false, sessionName: 'demo' })).sessionConfig).toBeUndefined();
    expect(runRequest(form({ session: true })).sessionConfig).toBeUndefined();
  });
  it('refuses what the server would', () => {
    expect(() => runRequest(form({ prompt: '  ' }))).toThrow('prompt: required');
    expect(() => runRequest(form({ maxTurns: '0' }))).toThrow('max turns');
    expect(() => runRequest(form({ timeout: '4' }))).toThrow('timeout: a whole number from 5 to 3600');
    expect(() => runRequest(form({ timeout: '2.5' }))).toThrow('timeout');
    expect(() => runRequest(form({ tools: [] }))).toThrow('tools: allow at least one');
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, '']));
    expect(() => runRequest(form({ files: many }))).toThrow('files: at most 20');
    expect(() => runRequest(form({ files: { big: 'x'.repeat((10 << 20) + 1) } }))).toThrow('10 MB');
  });
  it('keeps every tool by leaving allowedTools out', () =>
    expect(runRequest(form({ tools: [...TOOLS].reverse() })).allowedTools).toBeUndefined());
});
