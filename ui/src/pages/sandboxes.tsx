import { useEffect, useState } from 'preact/hooks';
import { accounts, api, Sandbox, Usage } from '../api';
import { age, bytes, cpu, matches, splitList, until } from '../format';
import { usePoll } from '../hooks';
import { Link, navigate } from '../router';

/** SandboxList is the live list of sandboxes with a filter and the create form. */
export function SandboxList() {
  const list = usePoll(() => api.sandboxes(), 3000);
  const usage = usePoll(async () => {
    const running = (list.data || []).filter(s => s.status === 'running').slice(0, 100).map(s => s.name);
    return running.length ? (await api.usage(running)).items : {};
  }, 5000, [list.data?.length]);
  const [filter, setFilter] = useState('');
  const [showCreate, setShowCreate] = useState(false);
  const [owner, setOwner] = useState('');
  const emails = useEmails();
  const ownerName = (id?: string) => (id ? emails[id] || id : '');
  // Only an admin sees the sandboxes of several owners: then the list can be narrowed to one.
  const owners = [...new Set((list.data || []).map(s => s.owner || ''))].sort();
  const rows = (list.data || []).filter(s => (!owner || (s.owner || '') === owner) && matches({
    name: s.name, state: s.status, template: s.template, image: s.image, profile: s.profile, owner: ownerName(s.owner),
  }, filter));
  return (
    <section aria-labelledby="sb-h">
      <div class="bar">
        <h1 id="sb-h">Sandboxes</h1>
        <label class="inline">Filter
          <input type="search" placeholder="state:running python" value={filter}
            onInput={e => setFilter((e.target as HTMLInputElement).value)} />
        </label>
        {owners.length > 1 && <label class="inline">Owner
          <select value={owner} onChange={e => setOwner((e.target as HTMLSelectElement).value)}>
            <option value="">all</option>
            {owners.map(o => <option value={o}>{o ? ownerName(o) : '(none)'}</option>)}
          </select></label>}
        <button onClick={() => setShowCreate(!showCreate)} aria-expanded={showCreate}>New sandbox</button>
      </div>
      {showCreate && <CreateForm onCreated={s => { list.reload(); navigate(`sandboxes/${encodeURIComponent(s.name)}`); }} />}
      {list.error && <p class="error" role="alert">{list.error}</p>}
      <p class="muted" aria-live="polite">{list.data ? `${rows.length} of ${list.data.length} sandboxes` : 'Loading…'}</p>
      <table class="grid" id="sandboxes">
        <thead><tr>
          <th scope="col">Name</th><th scope="col">State</th><th scope="col">Template</th><th scope="col">Image</th>
          <th scope="col">Profile</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">Age</th>
          <th scope="col">Expires</th><th scope="col">Owner</th><th scope="col"><span class="sr">Actions</span></th>
        </tr></thead>
        <tbody>
          {rows.map(s => <Row key={s.id} s={s} owner={ownerName(s.owner)} use={usage.data?.[s.name]} onChange={list.reload} />)}
        </tbody>
      </table>
    </section>
  );
}

/** useEmails maps user IDs to emails, for an admin (who may list the users); others get {}. */
function useEmails(): Record<string, string> {
  const [emails, setEmails] = useState<Record<string, string>>({});
  useEffect(() => {
    accounts.me().then(me => (me.role === 'admin' ? accounts.users() : []))
      .then(us => setEmails(Object.fromEntries(us.map(u => [u.id, u.email])))).catch(() => {});
  }, []);
  return emails;
}

function Row(props: { s: Sandbox; owner: string; use?: Usage; onChange: () => void }) {
  const { s, use } = props;
  return (
    <tr data-sandbox={s.name}>
      <td><Link to={`sandboxes/${encodeURIComponent(s.name)}`}>{s.name}</Link></td>
      <td><span class={`state ${s.status}`}>{s.status}</span></td>
      <td>{s.template || ''}</td>
      <td>{s.image || ''}</td>
      <td>{s.profile || ''}</td>
      <td>{use ? cpu(use.cpuMilli) : ''}{s.vcpus ? ` / ${s.vcpus}` : ''}</td>
      <td>{use ? bytes(use.memoryBytes) : ''}{s.memory_mb ? ` / ${bytes(s.memory_mb * 1048576)}` : ''}</td>
      <td><time dateTime={s.created_at}>{age(s.created_at)}</time></td>
      <td>{until(s.expires_at)}</td>
      <td>{props.owner}</td>
      <td><Actions s={s} onChange={props.onChange} /></td>
    </tr>
  );
}

/** Actions are the lifecycle buttons a sandbox's state allows. */
export function Actions(props: { s: Sandbox; onChange: () => void; onDeleted?: () => void }) {
  const { s } = props;
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const act = (f: () => Promise<unknown>, after = props.onChange) => async () => {
    setBusy(true); setErr('');
    try { await f(); after(); } catch (e) { setErr((e as Error).message); } finally { setBusy(false); }
  };
  const label = (verb: string) => `${verb} ${s.name}`;
  return (
    <span class="actions">
      {s.status === 'running' && <button disabled={busy} aria-label={label('Stop')} onClick={act(() => api.action(s.name, 'stop'))}>Stop</button>}
      {(s.status === 'stopped' || s.status === 'failed') && <button disabled={busy} aria-label={label('Start')} onClick={act(() => api.action(s.name, 'start'))}>Start</button>}
      {s.status === 'running' && <button disabled={busy} aria-label={label('Pause')} onClick={act(() => api.pause(s.name))}>Pause</button>}
      {s.status === 'paused' && <button disabled={busy} aria-label={label('Resume')} onClick={act(() => api.resume(s.name))}>Resume</button>}
      {s.expires_at && <button disabled={busy} aria-label={`Extend ${s.name} by 1 hour`} onClick={act(() => api.extend(s.name, '1h'))}>+1h</button>}
      <button class="danger" disabled={busy} aria-label={label('Delete')}
        onClick={act(() => confirm(`Delete ${s.name}?`) ? api.remove(s.name) : Promise.resolve(), props.onDeleted || props.onChange)}>Delete</button>
      {err && <span class="error" role="alert">{err}</span>}
    </span>
  );
}

function CreateForm(props: { onCreated: (s: Sandbox) => void }) {
  const templates = usePoll(() => api.templates(), 0);
  const [f, setF] = useState<Record<string, string>>({ network: 'none', ttl: '1h' });
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const field = (k: string, label: string, props: Record<string, unknown> = {}) => (
    <label>{label}<input name={k} value={f[k] || ''} {...props}
      onInput={e => setF({ ...f, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setErr('');
    const req: Record<string, unknown> = { name: f.name };
    for (const k of ['template', 'image', 'profile', 'ttl', 'network']) if (f[k]) req[k] = f[k];
    if (f.vcpus) req.vcpus = Number(f.vcpus);
    if (f.memory_mb) req.memory_mb = Number(f.memory_mb);
    if (f.allow_out) req.allow_out = splitList(f.allow_out);
    try { props.onCreated(await api.create(req)); } catch (x) { setErr((x as Error).message); } finally { setBusy(false); }
  };
  return (
    <form class="card create" onSubmit={submit} aria-label="New sandbox">
      {field('name', 'Name', { required: true, pattern: '[a-zA-Z0-9][a-zA-Z0-9_.\\-]*' })}
      <label>Template<select name="template" value={f.template || ''}
        onChange={e => setF({ ...f, template: (e.target as HTMLSelectElement).value })}>
        <option value="">(none)</option>
        {(templates.data || []).map(t => <option value={String(t.name)}>{String(t.name)}</option>)}
      </select></label>
      {field('image', 'Image', { placeholder: 'base' })}
      {field('profile', 'Profile', { placeholder: 'default' })}
      {field('vcpus', 'vCPUs', { type: 'number', min: '0.1', step: '0.1' })}
      {field('memory_mb', 'Memory (MiB)', { type: 'number', min: '16' })}
      <label>Network<select name="network" value={f.network}
        onChange={e => setF({ ...f, network: (e.target as HTMLSelectElement).value })}>
        <option value="none">none</option><option value="egress">egress</option>
      </select></label>
      {field('allow_out', 'Allow out (hosts, CIDRs)', { placeholder: 'pypi.org, 10.0.0.0/8' })}
      {field('ttl', 'TTL', { placeholder: '30m' })}
      <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create'}</button>
      {err && <p class="error" role="alert">{err}</p>}
    </form>
  );
}
