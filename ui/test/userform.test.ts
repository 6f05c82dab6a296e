import { describe, expect, it } from 'vitest';
import { quotaRequest, userPatch } from '../src/userform';

const bob = { id: 'usr_1', email: 'bob@x', name: 'Bob', role: 'user', disabled: false, has_password: true, created_at: '' };

describe('userPatch', () => {
  it('is null when nothing changed', () =>
    expect(userPatch(bob, { name: ' Bob ', role: 'user', disabled: false, password: '' })).toBeNull());
  it('sends only what changed', () => {
    expect(userPatch(bob, { name: 'Bob', role: 'admin', disabled: true, password: '' })).toEqual({ role: 'admin', disabled: true });
    expect(userPatch(bob, { name: 'Robert', role: 'user', disabled: false, password: 'pw' })).toEqual({ name: 'Robert', password: 'pw' });
  });
  it('clears a name', () => expect(userPatch(bob, { name: '', role: 'user', disabled: false, password: '' })).toEqual({ name: '' }));
});

describe('quotaRequest', () => {
  it('leaves empty fields out and keeps 0 (no limit)', () =>
    expect(quotaRequest({ sandboxes: '2', memory_mb: '', vcpus: '0', sessions: ' 3 ' })).toEqual({ sandboxes: 2, vcpus: 0, sessions: 3 }));
  it('refuses negatives, fractions and words', () => {
    expect(() => quotaRequest({ sandboxes: '-1' })).toThrow('Running sandboxes: a whole number');
    expect(() => quotaRequest({ vcpus: '1.5' })).toThrow('vCPUs');
    expect(() => quotaRequest({ memory_mb: 'lots' })).toThrow('Memory (MB)');
  });
});
