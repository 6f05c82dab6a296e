import { useState } from 'preact/hooks';
import { Agent, agents } from '../api';
import { agentName, parseTags } from '../agents';
import { agentConfig } from '../agentapi';
import { age } from '../format';
import { usePoll } from '../hooks';
import { Link, navigate } from '../router';

/** AgentList is the live list of Trinity agents, filtered by tags, with the create form. */
export function AgentList() {
  const [filter, setFilter] = useState('');
  let tags: string[] = [], filterErr = '';
  try { tags = parseTags(filter); } catch (e) { filterErr = (e as Error).message; }
  const list = usePoll(() => agentConfig.list(tags), 3000, [tags.join(',')]);
  // The list's answer is Trinity's AgentStatus, without the autonomy and read-only flags: those
  // come from each agent's detail, for the first 50 agents, every 10 s.
  const flags = usePoll(async () => {
    const names = (list.data || []).slice(0, 50).map(a => a.name);
    const details = await Promise.all(names.map(n => agents.get(n).catch(() => undefined)));
    return Object.fromEntries(details.filter((d): d is Agent => !!d).map(d => [d.name, d]));
  }, 10000, [(list.data || []).map(a => a.name).join(',')]);
  const [showCreate, setShowCreate] = useState(false);
  return (
    <section aria-labelledby="ag-h">
      <div class="bar">
        <h1 id="ag-h">Agents</h1>
        <button onClick={() => setShowCreate(!showCreate)} aria-expanded={showCreate}>New agent</button>
      </div>
      {showCreate && <CreateAgent onCreated={a => { list.reload(); navigate(`agents/${encodeURIComponent(a.name)}`); }} />}
      <p class="bar"><label class="inline">Tags<input type="search" value={filter} placeholder="prod, research (any of them)"
        aria-describedby="ag-count" onInput={e => setFilter((e.target as HTMLInputElement).value)} /></label>
        {filterErr && <span class="error" role="alert">{filterErr}</span>}</p>
      {list.error && <p class="error" role="alert">{list.error}</p>}
      <p class="muted" id="ag-count" aria-live="polite">{list.data ? `${list.data.length} agent${list.data.length === 1 ? '' : 's'}${tags.length ? ` tagged ${tags.join(' or ')}` : ''}` : 'Loading…'}</p>
      <table class="grid" id="agents">
        <thead><tr>
          <th scope="col">Name</th><th scope="col">Status</th><th scope="col">Runtime</th><th scope="col">Resources</th>
          <th scope="col">Tags</th><th scope="col">Autonomy</th><th scope="col">Read-only</th><th scope="col">Age</th>
          <th scope="col"><span class="sr">Actions</span></th>
        </tr></thead>
        <tbody>{(list.data || []).map(x => ({ ...flags.data?.[x.name], ...x })).map(a => (
          <tr data-agent={a.name} key={a.name}>
            <td><Link to={`agents/${encodeURIComponent(a.name)}`}>{a.name}</Link></td>
            <td><span class={`state ${a.status}`}>{a.status}</span></td>
            <td>{a.runtime || ''}</td>
            <td>{a.resources ? `${a.resources.cpu || '?'} CPU, ${a.resources.memory || '?'}` : ''}</td>
            <td>{(a.tags || []).map(t => <button class="link" aria-label={`Filter by tag ${t}`} onClick={() => setFilter(t)}>{t} </button>)}</td>
            <td>{a.autonomy_enabled === undefined ? '' : a.autonomy_enabled ? 'on' : 'off'}</td>
            <td>{a.read_only_enabled === undefined ? '' : a.read_only_enabled ? 'yes' : 'no'}</td>
            <td>{a.created ? <time dateTime={a.created}>{age(a.created)}</time> : ''}</td>
            <td><AgentActions a={a} onChange={list.reload} /></td>
          </tr>
        ))}</tbody>
      </table>
    </section>
  );
}

/** AgentActions are start, stop and delete, as the agent's status allows; delete only for
 * those who may (the detail's can_delete: its owner and admins). */
export function AgentActions(props: { a: Agent; onChange: () => void; onDeleted?: () => void }) {
  const { a } = props;
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const act = (f: () => Promise<unknown>, after = props.onChange) => async () => {
    setBusy(true); setErr('');
    try { await f(); after(); } catch (e) { setErr((e as Error).message); } finally { setBusy(false); }
  };
  return (
    <span class="actions">
      {a.status === 'running'
        ? <button disabled={busy} aria-label={`Stop ${a.name}`} onClick={act(() => agents.action(a.name, 'stop'))}>Stop</button>
        : <button disabled={busy} aria-label={`Start ${a.name}`} onClick={act(() => agents.action(a.name, 'start'))}>Start</button>}
      {(a as Agent & { can_delete?: boolean }).can_delete !== false && <button class="danger" disabled={busy} aria-label={`Delete ${a.name}`}
        onClick={act(() => confirm(`Delete agent ${a.name} and its workspace?`) ? agents.remove(a.name) : Promise.resolve(),
          props.onDeleted || props.onChange)}>Delete</button>}
      {busy && <span class="muted">working…</span>}
      {err && <span class="error" role="alert">{err}</span>}
    </span>
  );
}

function CreateAgent(props: { onCreated: (a: Agent) => void }) {
  const [f, setF] = useState<Record<string, string>>({ runtime: 'shell', cpu: '1', memory: '1g' });
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setErr('');
    try {
      props.onCreated(await agents.create({ name: f.name, runtime: f.runtime, resources: { cpu: f.cpu, memory: f.memory } }));
    } catch (x) { setErr((x as Error).message); } finally { setBusy(false); }
  };
  const named = agentName(f.name || '');
  return (
    <form class="card create" onSubmit={submit} aria-label="New agent">
      <label>Name<input name="name" required value={f.name || ''} onInput={set('name')} /></label>
      <label>Runtime<input name="runtime" list="runtimes" value={f.runtime} onInput={set('runtime')} /></label>
      <datalist id="runtimes"><option value="shell" /><option value="claude-code" /><option value="gemini-cli" /></datalist>
      <label>CPUs<input name="cpu" type="number" min="1" max="16" value={f.cpu} onInput={set('cpu')} /></label>
      <label>Memory<input name="memory" placeholder="4g" value={f.memory} onInput={set('memory')} /></label>
      <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create'}</button>
      {f.name && named !== f.name && <p class="hint">Will be named <code>{named}</code>.</p>}
      {err && <p class="error" role="alert">{err}</p>}
    </form>
  );
}
