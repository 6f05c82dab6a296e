import { describe, expect, it } from 'vitest';
import { agentName, credentialFiles, flatten, mergeRuns, parsePatterns, parseTags, scheduleRequest, timeoutSeconds } from '../src/agents';

describe('flatten', () => {
  it('lists directories first, depth first, with depths', () => {
    const rows = flatten([
      { name: 'z.txt', path: 'z.txt', type: 'file', size: 3 },
      { name: 'notes', path: 'notes', type: 'directory', children: [
        { name: 'b.txt', path: 'notes/b.txt', type: 'file', size: 1 },
        { name: 'a.txt', path: 'notes/a.txt', type: 'file', size: 2 },
      ] },
    ]);
    expect(rows.map(r => [r.path, r.depth, r.dir])).toEqual([
      ['notes', 0, true], ['notes/a.txt', 1, false], ['notes/b.txt', 1, false], ['z.txt', 0, false],
    ]);
  });
  it('takes an empty tree', () => expect(flatten([])).toEqual([]));
});

describe('scheduleRequest', () => {
  it('sends a command with the name as its label', () => {
    expect(scheduleRequest({ name: ' tick ', cron: '*/5 * * * *', kind: 'command', text: 'date' }))
      .toEqual({ name: 'tick', cron_expression: '*/5 * * * *', enabled: true, command: 'date', message: 'tick' });
  });
  it('sends a message, with a timezone when given', () => {
    expect(scheduleRequest({ name: 'm', cron: '@daily', kind: 'message', text: 'summarise', timezone: 'Europe/Paris' }))
      .toEqual({ name: 'm', cron_expression: '@daily', enabled: true, message: 'summarise', timezone: 'Europe/Paris' });
  });
  it('names the missing field', () => {
    expect(() => scheduleRequest({ cron: '* * * * *', text: 'x' })).toThrow('name: required');
    expect(() => scheduleRequest({ name: 'a', text: 'x' })).toThrow('cron: required');
    expect(() => scheduleRequest({ name: 'a', cron: '* * * * *', kind: 'message' })).toThrow('message: required');
  });
});

describe('agentName', () => {
  it('follows the Trinity naming rule', () => {
    expect(agentName('Research Agent')).toBe('research-agent');
    expect(agentName('--a!!b-')).toBe('a-b');
  });
});

describe('mergeRuns', () => {
  it('merges newest first and keeps the limit', () => {
    const r = (id: string, t: string) => ({ id, schedule_id: 's', status: 'success', started_at: t });
    expect(mergeRuns([[r('a', '2026-01-01T10:00:00Z'), r('b', '2026-01-01T08:00:00Z')], [r('c', '2026-01-01T09:00:00Z')]], 2)
      .map(x => x.id)).toEqual(['a', 'c']);
  });
});

describe('parseTags', () => {
  it('lowercases, trims, dedupes and sorts, split by commas or spaces', () =>
    expect(parseTags(' Prod, research  prod,,beta-2 ')).toEqual(['beta-2', 'prod', 'research']));
  it('takes nothing', () => expect(parseTags('  ,')).toEqual([]));
  it('refuses other characters and long tags', () => {
    expect(() => parseTags('a_b')).toThrow('tags: "a_b"');
    expect(() => parseTags('x'.repeat(51))).toThrow(/at most 50/);
  });
});

describe('timeoutSeconds', () => {
  it('turns minutes into seconds', () => {
    expect(timeoutSeconds('15')).toBe(900);
    expect(timeoutSeconds('1.5')).toBe(90);
    expect(timeoutSeconds('120')).toBe(7200);
  });
  it('refuses what the server refuses', () => {
    for (const m of ['', '0.5', '121', 'x', '-3']) expect(() => timeoutSeconds(m), m).toThrow('timeout:');
  });
});

describe('parsePatterns', () => {
  it('reads one a line or comma separated', () =>
    expect(parsePatterns('content/*\n output/** ,*.log\n\n')).toEqual(['content/*', 'output/**', '*.log']));
  it('refuses absolute patterns and ..', () => {
    expect(() => parsePatterns('/etc/*')).toThrow('pattern "/etc/*"');
    expect(() => parsePatterns('a/../b')).toThrow('relative');
  });
});

describe('credentialFiles', () => {
  it('keys the content by its trimmed path', () =>
    expect(credentialFiles(' .env ', 'A=1\n')).toEqual({ '.env': 'A=1\n' }));
  it('refuses empty, absolute, .. and directory paths', () => {
    expect(() => credentialFiles(' ', 'x')).toThrow('path: required');
    expect(() => credentialFiles('/root/.env', 'x')).toThrow('relative');
    expect(() => credentialFiles('../x', 'x')).toThrow('relative');
    expect(() => credentialFiles('.config/', 'x')).toThrow('directory');
  });
});
