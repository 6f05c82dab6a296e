import { useEffect, useState } from 'preact/hooks';
import type { FunctionComponent } from 'preact';
import { api, Sandbox } from '../api';
import { age, splitList, until } from '../format';
import { usePoll } from '../hooks';
import { Link, navigate } from '../router';
import { Actions } from './sandboxes';
import { Files } from './files';
import { Code } from './code';

const TABS: [string, string][] = [['overview', 'Overview'], ['terminal', 'Terminal'], ['files', 'Files'], ['code', 'Code']];

/** SandboxDetail is one sandbox: overview (audit log, network, ports), terminal, files, code. */
export function SandboxDetail(props: { name: string; tab: string }) {
  const sb = usePoll(() => api.sandbox(props.name), 3000, [props.name]);
  const s = sb.data;
  const base = `sandboxes/${encodeURIComponent(props.name)}`;
  return (
    <section aria-labelledby="d-h">
      <div class="bar">
        <h1 id="d-h"><Link to="sandboxes">Sandboxes</Link> / {props.name}</h1>
        {s && <span class={`state ${s.status}`}>{s.status}</span>}
        {s && <Actions s={s} onChange={sb.reload} onDeleted={() => navigate('sandboxes')} />}
      </div>
      {sb.error && <p class="error" role="alert">{sb.error}</p>}
      <nav class="tabs" aria-label="Sandbox">
        {TABS.map(([id, label]) => (
          <Link to={`${base}/${id}`} aria-current={props.tab === id ? 'page' : undefined}>{label}</Link>
        ))}
      </nav>
      {s && props.tab === 'overview' && <Overview s={s} onChange={sb.reload} />}
      {s && props.tab === 'terminal' && (s.status === 'running'
        ? <LazyTerminal name={s.name} /> : <p>The sandbox is {s.status}: start it to open a terminal.</p>)}
      {s && props.tab === 'files' && <Files name={s.name} />}
      {s && props.tab === 'code' && <Code name={s.name} />}
    </section>
  );
}

function Overview(props: { s: Sandbox; onChange: () => void }) {
  const { s } = props;
  const logs = usePoll(() => api.logs(s.name), 5000, [s.name]);
  const rows: [string, string | undefined][] = [
    ['ID', s.id], ['Template', s.template], ['Image', s.image], ['Profile', s.profile],
    ['vCPUs', s.vcpus?.toString()], ['Memory', s.memory_mb ? `${s.memory_mb} MiB` : undefined],
    ['Disk', s.disk_mb ? `${s.disk_mb} MiB` : undefined], ['Created', `${s.created_at} (${age(s.created_at)} ago)`],
    ['Expires', s.expires_at ? `${s.expires_at} (${until(s.expires_at)}, then ${s.on_expire || 'delete'})` : 'never'],
    ['Reason', s.reason],
  ];
  const ports = [...new Set([s.port, ...(s.public_ports || [])].filter((p): p is number => !!p))];
  return (
    <div class="cols">
      <div>
        <h2>Details</h2>
        <dl class="kv">{rows.filter(r => r[1]).map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl>
        <h2>Ports</h2>
        <p class="muted">Opened through the port routes, in a sandboxed origin of their own (docs/ports.md).</p>
        <ul>{ports.map(p => (
          <li><a href={`/sandboxes/${encodeURIComponent(s.name)}/ports/${p}/${s.traffic_token ? `?token=${encodeURIComponent(s.traffic_token)}` : ''}`}
            target="_blank" rel="noopener noreferrer">port {p}{s.public_ports?.includes(p) || s.public_ports?.includes(0) ? ' (public)' : ''}</a></li>
        ))}</ul>
        <Network s={s} onChange={props.onChange} />
      </div>
      <div>
        <h2>Audit log</h2>
        {logs.error && <p class="error">{logs.error}</p>}
        <table class="grid small" id="audit">
          <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Details</th></tr></thead>
          <tbody>{(logs.data || []).slice().reverse().map(e => (
            <tr><td><time dateTime={e.timestamp}>{new Date(e.timestamp).toLocaleTimeString()}</time></td>
              <td>{e.event}</td><td>{e.user_email || e.actor}</td>
              <td class="mono">{e.details ? JSON.stringify(e.details) : ''}</td></tr>
          ))}</tbody>
        </table>
      </div>
    </div>
  );
}

function Network(props: { s: Sandbox; onChange: () => void }) {
  const { s } = props;
  const [allow, setAllow] = useState((s.allow_out || []).join(', '));
  const [deny, setDeny] = useState((s.deny_out || []).join(', '));
  const [msg, setMsg] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    try { await api.setNetwork(s.name, splitList(allow), splitList(deny)); setMsg('Saved.'); props.onChange(); }
    catch (x) { setMsg((x as Error).message); }
  };
  return (
    <form onSubmit={save} aria-label="Network policy">
      <h2>Network policy</h2>
      <p>Network: <strong>{s.network || 'none'}</strong></p>
      {s.network === 'egress' ? (
        <>
          <label>Allow out<input value={allow} onInput={e => setAllow((e.target as HTMLInputElement).value)} /></label>
          <label>Deny out<input value={deny} onInput={e => setDeny((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">Save policy</button>
        </>
      ) : <p class="muted">No egress: the sandbox sees only its loopback.</p>}
      {msg && <p role="status">{msg}</p>}
    </form>
  );
}

/** LazyTerminal loads xterm.js (most of the bundle) only when a terminal is opened. */
function LazyTerminal(props: { name: string }) {
  const [T, setT] = useState<FunctionComponent<{ name: string }> | null>(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    import('./terminal').then(m => setT(() => m.Terminal)).catch(e => setErr(String(e)));
  }, []);
  if (err) return <p class="error" role="alert">{err}</p>;
  return T ? <T name={props.name} /> : <p class="muted">Loading the terminal…</p>;
}
