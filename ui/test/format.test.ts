import { describe, expect, it } from 'vitest';
import { age, bytes, cpu, matches, span, splitList, until, when } from '../src/format';

describe('format', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('when', () => {
    // Nanoseconds as Go writes them; the browser's zone, so compare with Date's own fields.
    const d = new Date('2026-12-03T16:48:24.944882710Z');
    const p = (n: number) => String(n).padStart(2, '0');
    expect(when('2026-12-03T16:48:24.944882710Z')).toBe(
      `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`);
    expect(when('')).toBe('');
    expect(when('not a time')).toBe('not a time');
  });
  it('age and until', () => {
    expect(age('2026-01-01T11:59:15Z', now)).toBe('45s');
    expect(age('2026-01-01T10:00:00Z', now)).toBe('2h');
    expect(age('2025-12-29T12:00:00Z', now)).toBe('3d');
    expect(age(undefined, now)).toBe('');
    expect(until('2026-01-01T12:30:00Z', now)).toBe('in 30m');
    expect(until('2026-01-01T11:00:00Z', now)).toBe('expired');
    expect(span(59)).toBe('59s');
  });
  it('bytes', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(512 * 1048576)).toBe('512 MiB');
  });
  it('cpu', () => {
    expect(cpu(250)).toBe('0.25');
    expect(cpu(1500)).toBe('1.5');
    expect(cpu(0)).toBe('0');
    expect(cpu(12)).toBe('0.012');
  });
  it('splitList', () => {
    expect(splitList('a, b\nc ,, ')).toEqual(['a', 'b', 'c']);
  });
  it('matches', () => {
    const row = { name: 'web-1', state: 'running', template: 'python', image: 'base' };
    expect(matches(row, '')).toBe(true);
    expect(matches(row, 'state:running')).toBe(true);
    expect(matches(row, 'state:stopped')).toBe(false);
    expect(matches(row, 'web PY')).toBe(true);
    expect(matches(row, 'web node')).toBe(false);
  });
});
