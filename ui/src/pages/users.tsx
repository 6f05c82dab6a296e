import { useState } from 'preact/hooks';
import { accounts, APIKey, User } from '../api';
import { userAdmin } from '../userapi';
import { QUOTA_FIELDS, quotaRequest, userPatch } from '../userform';
import { usePoll } from '../hooks';

/** Users shows the caller's own API keys (create, with the secret shown once; revoke) and,
 * for admins, the users (list, create, edit, disable, delete, quota). */
export function Users() {
  const me = usePoll(() => accounts.me(), 0);
  const m = me.data;
  return (
    <section aria-labelledby="u-h">
      <h1 id="u-h">Users and keys</h1>
      {me.error && <p class="error" role="alert">{me.error}</p>}
      {m && <p>Signed in as <strong>{m.email}</strong> ({m.role}){m.key_id ? <>, with <code>{m.key_id}</code></> : ''}.</p>}
      {m && <Keys current={m.key_id} />}
      {m?.role === 'admin' && <UserList me={m.email} />}
    </section>
  );
}

const EXPIRY: [string, number][] = [['never', 0], ['1 day', 86400], ['30 days', 2592000], ['90 days', 7776000]];

function Keys(props: { current?: string }) {
  const keys = usePoll(() => accounts.keys(), 0);
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('0');
  const [made, setMade] = useState<(APIKey & { key: string }) | null>(null);
  const [err, setErr] = useState('');
  const [copied, setCopied] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault(); setErr(''); setMade(null); setCopied(false);
    try { setMade(await accounts.createKey(name, Number(expiry) || undefined)); setName(''); keys.reload(); }
    catch (x) { setErr((x as Error).message); }
  };
  const revoke = async (k: APIKey) => {
    const own = k.id === props.current;
    if (!confirm(own ? `Revoke ${k.id}? It is the key this tab uses: you will be logged out.` : `Revoke ${k.name || k.id}?`)) return;
    try { await accounts.revokeKey(k.id); keys.reload(); } catch (x) { setErr((x as Error).message); }
  };
  const copy = async () => {
    try { await navigator.clipboard.writeText(made!.key); setCopied(true); } catch { setErr('copying needs a secure context: select the key and copy it'); }
  };
  return (
    <>
      <h2>Your API keys</h2>
      <form class="bar" onSubmit={create} aria-label="New API key">
        <label class="inline">Key name<input value={name} onInput={e => setName((e.target as HTMLInputElement).value)} /></label>
        <label class="inline">Expires<select value={expiry} onChange={e => setExpiry((e.target as HTMLSelectElement).value)}>
          {EXPIRY.map(([l, s]) => <option value={String(s)}>{l}</option>)}
        </select></label>
        <button type="submit">Create key</button>
      </form>
      {err && <p class="error" role="alert">{err}</p>}
      {made && <div class="card" id="new-key">
        <p class="warn" role="alert"><strong>The key is shown once.</strong> Copy it now: the server keeps only its hash and cannot show it again.</p>
        <label for="new-key-value">New key {made.name ? `(${made.name})` : ''}</label>
        <div class="bar"><input id="new-key-value" class="mono" size={50} readOnly value={made.key} />
          <button onClick={copy}>Copy key</button>{copied && <span role="status">Copied.</span>}</div>
      </div>}
      {keys.error && <p class="error">{keys.error}</p>}
      <table class="grid" id="keys">
        <thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Last used</th>
          <th scope="col">Expires</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>{(keys.data || []).map(k => (
          <tr data-key={k.id}>
            <td class="mono">{k.id}{k.id === props.current ? ' (this tab)' : ''}</td><td>{k.name}</td><td>{k.created_at}</td>
            <td>{k.last_used_at || ''}</td><td>{k.expires_at || 'never'}</td>
            <td><button class="danger" aria-label={`Revoke ${k.name || k.id}`} onClick={() => revoke(k)}>Revoke</button></td>
          </tr>
        ))}</tbody>
      </table>
    </>
  );
}

function UserList(props: { me: string }) {
  const users = usePoll(() => accounts.users(), 0);
  const [editing, setEditing] = useState('');
  const edited = (users.data || []).find(u => u.email === editing);
  const [f, setF] = useState<Record<string, string>>({ role: 'user' });
  const [err, setErr] = useState('');
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const create = async (e: Event) => {
    e.preventDefault(); setErr('');
    const req: Record<string, unknown> = { email: f.email, role: f.role };
    if (f.name) req.name = f.name;
    if (f.password) req.password = f.password;
    try { await accounts.createUser(req); setF({ role: f.role }); users.reload(); } catch (x) { setErr((x as Error).message); }
  };
  return (
    <>
      <h2>Users</h2>
      <form class="card create" onSubmit={create} aria-label="New user">
        <label>Email<input type="email" required value={f.email || ''} onInput={set('email')} /></label>
        <label>Full name<input value={f.name || ''} onInput={set('name')} /></label>
        <label>Role<select value={f.role} onChange={set('role')}><option value="user">user</option><option value="admin">admin</option></select></label>
        <label>Password<input type="password" autocomplete="new-password" placeholder="none: keys only" value={f.password || ''} onInput={set('password')} /></label>
        <button type="submit">Create user</button>
        {err && <p class="error" role="alert">{err}</p>}
      </form>
      {users.error && <p class="error">{users.error}</p>}
      <table class="grid" id="users">
        <thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Password</th>
          <th scope="col">Disabled</th><th scope="col">Created</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>{(users.data || []).map(u => (
          <tr data-user={u.email}><td>{u.email}</td><td>{u.name}</td><td>{u.role}</td><td>{u.has_password ? 'yes' : 'no'}</td>
            <td>{u.disabled ? 'yes' : 'no'}</td><td>{u.created_at}</td>
            <td><button aria-label={`Edit ${u.email}`} aria-expanded={editing === u.email}
              onClick={() => setEditing(editing === u.email ? '' : u.email)}>Edit</button></td></tr>
        ))}</tbody>
      </table>
      {edited && <EditUser key={edited.email} u={edited} self={edited.email === props.me}
        onChange={users.reload} onDeleted={() => { setEditing(''); users.reload(); }} />}
    </>
  );
}

/** EditUser changes a user (name, role, disabled, a new password), their quota, or deletes them. */
function EditUser(props: { u: User; self: boolean; onChange: () => void; onDeleted: () => void }) {
  const { u } = props;
  const [f, setF] = useState({ name: u.name || '', role: u.role, disabled: u.disabled, password: '' });
  const [err, setErr] = useState('');
  const [note, setNote] = useState('');
  const save = async (e: Event) => {
    e.preventDefault(); setErr(''); setNote('');
    const req = userPatch(u, f);
    if (!req) { setNote('Nothing changed.'); return; }
    try { await userAdmin.update(u.email, req); setF({ ...f, password: '' }); setNote('Saved.'); props.onChange(); }
    catch (x) { setErr((x as Error).message); }
  };
  const del = async () => {
    setErr(''); setNote('');
    if (!confirm(`Delete ${u.email} and their API keys?`)) return;
    try { await userAdmin.remove(u.email); props.onDeleted(); } catch (x) { setErr((x as Error).message); }
  };
  return (
    <div class="card" role="group" aria-labelledby="edit-h" id="edit-user">
      <h3 id="edit-h">{u.email}</h3>
      <form class="create" onSubmit={save} aria-label={`Edit ${u.email}`}>
        <label>Name<input value={f.name} onInput={e => setF({ ...f, name: (e.target as HTMLInputElement).value })} /></label>
        <label>User role<select value={f.role} onChange={e => setF({ ...f, role: (e.target as HTMLSelectElement).value })}>
          <option value="user">user</option><option value="admin">admin</option></select></label>
        <label>New password<input type="password" autocomplete="new-password" placeholder="unchanged" value={f.password}
          onInput={e => setF({ ...f, password: (e.target as HTMLInputElement).value })} /></label>
        <label class="inline"><input type="checkbox" checked={f.disabled}
          onChange={e => setF({ ...f, disabled: (e.target as HTMLInputElement).checked })} /> Disabled (their keys and logins stop working)</label>
        <button type="submit">Save user</button>
        <button type="button" class="danger" disabled={props.self} title={props.self ? 'you cannot delete yourself here' : undefined}
          onClick={del}>Delete user</button>
      </form>
      {note && <p role="status" class="muted">{note}</p>}
      {err && <p class="error" role="alert">{err}</p>}
      {u.role !== 'admin' && <QuotaForm email={u.email} />}
    </div>
  );
}

function QuotaForm(props: { email: string }) {
  const q = usePoll(() => userAdmin.quota(props.email), 0, [props.email]);
  const [f, setF] = useState<Record<string, string>>({});
  const [err, setErr] = useState('');
  const [note, setNote] = useState('');
  const save = async (e: Event) => {
    e.preventDefault(); setErr(''); setNote('');
    try { await userAdmin.setQuota(props.email, quotaRequest(f)); setF({}); setNote('Quota saved.'); q.reload(); }
    catch (x) { setErr((x as Error).message); }
  };
  const use = q.data?.usage as Record<string, number> | undefined;
  const usedOf = (k: string) => use ? use[k === 'creates_per_minute' ? 'creates_last_minute' : k] : undefined;
  return (
    <form class="create" onSubmit={save} aria-label={`Quota of ${props.email}`} id="quota">
      <h4 style={{ gridColumn: '1 / -1', margin: '.6rem 0 0' }}>Quota (0: no limit)</h4>
      {q.error && <p class="error">{q.error}</p>}
      {QUOTA_FIELDS.map(([k, label]) => (
        <label>{label}<input type="number" min="0" step="1" placeholder={String(q.data?.quota?.[k] ?? 0)}
          value={f[k] ?? ''} onInput={e => setF({ ...f, [k]: (e.target as HTMLInputElement).value })} />
          {q.data && <span class="muted" data-quota={k}>limit {q.data.quota?.[k] || 'none'}, in use {usedOf(k) ?? 0}</span>}</label>
      ))}
      <button type="submit">Save quota</button>
      {note && <p role="status" class="muted">{note}</p>}
      {err && <p class="error" role="alert">{err}</p>}
    </form>
  );
}
