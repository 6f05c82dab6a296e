import { useState } from 'preact/hooks';
import { agents, SSHAccess } from '../api';
import { flatten, mergeRuns, scheduleRequest } from '../agents';
import { bytes, span } from '../format';
import { usePoll } from '../hooks';
import { Link, navigate } from '../router';
import { AgentActions } from './agents';
import { Credentials, mayChange, Settings, Sharing } from './agentconfig';

const TABS: [string, string][] = [['overview', 'Overview'], ['logs', 'Logs'], ['files', 'Files'], ['schedules', 'Schedules'],
  ['settings', 'Settings'], ['sharing', 'Sharing'], ['credentials', 'Credentials'], ['ssh', 'SSH']];

/** AgentDetail is one agent: overview with live stats, logs, workspace files, schedules,
 * settings, sharing, credentials, SSH. */
export function AgentDetail(props: { name: string; tab: string }) {
  const ag = usePoll(() => agents.get(props.name), 3000, [props.name]);
  const a = ag.data;
  const base = `agents/${encodeURIComponent(props.name)}`;
  const running = a?.status === 'running';
  return (
    <section aria-labelledby="a-h">
      <div class="bar">
        <h1 id="a-h"><Link to="agents">Agents</Link> / {props.name}</h1>
        {a && <span class={`state ${a.status}`}>{a.status}</span>}
        {a && <AgentActions a={a} onChange={ag.reload} onDeleted={() => navigate('agents')} />}
      </div>
      {ag.error && <p class="error" role="alert">{ag.error}</p>}
      <nav class="tabs" aria-label="Agent">
        {TABS.map(([id, label]) => (
          <Link to={`${base}/${id}`} aria-current={props.tab === id ? 'page' : undefined}>{label}</Link>
        ))}
      </nav>
      {a && props.tab === 'overview' && <div class="cols">
        <div>
          <h2>Details</h2>
          <dl class="kv">{([['ID', a.id], ['Runtime', a.runtime], ['Owner', a.owner],
            ['Resources', a.resources && `${a.resources.cpu} CPU, ${a.resources.memory}`], ['Tags', (a.tags || []).join(', ')],
            ['Autonomy', a.autonomy_enabled ? 'on' : 'off'], ['Read-only', a.read_only_enabled ? 'yes' : 'no'],
            ['Execution timeout', a.execution_timeout_seconds ? span(a.execution_timeout_seconds) : undefined],
            ['Workspace volume', a.workspace_volume], ['Sandbox', a.container_id]] as [string, string | undefined][])
            .filter(r => r[1]).map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl>
          <Autonomy name={a.name} on={!!a.autonomy_enabled} onChange={ag.reload} />
        </div>
        <div><h2>Live stats</h2>{running ? <Stats name={a.name} /> : <p>The agent is {a.status}: start it to see its stats.</p>}</div>
      </div>}
      {a && props.tab === 'logs' && <Logs name={a.name} />}
      {a && props.tab === 'files' && (running ? <Workspace name={a.name} /> : <p>The agent is {a.status}: start it to browse its workspace.</p>)}
      {a && props.tab === 'schedules' && <Schedules name={a.name} />}
      {a && props.tab === 'settings' && <Settings a={a} onChange={ag.reload} />}
      {a && props.tab === 'sharing' && <Sharing name={a.name} owner={mayChange(a)} />}
      {a && props.tab === 'credentials' && <Credentials name={a.name} running={running} />}
      {a && props.tab === 'ssh' && <SSH name={a.name} />}
    </section>
  );
}

/** Autonomy is the gate on the agent's schedules: off, none fires (docs/trinity.md). */
function Autonomy(props: { name: string; on: boolean; onChange: () => void }) {
  const [err, setErr] = useState('');
  const flip = async () => {
    setErr('');
    try { await agents.setAutonomy(props.name, !props.on); props.onChange(); } catch (e) { setErr((e as Error).message); }
  };
  return (
    <p class="bar">
      <button onClick={flip} aria-pressed={props.on}>{props.on ? 'Turn autonomy off' : 'Turn autonomy on'}</button>
      <span class="muted">Schedules fire only while autonomy is on.</span>
      {err && <span class="error" role="alert">{err}</span>}
    </p>
  );
}

function Stats(props: { name: string }) {
  const st = usePoll(() => agents.stats(props.name), 2000, [props.name]);
  const s = st.data;
  return (
    <>
      {st.error && <p class="error">{st.error}</p>}
      {s && <dl class="kv" id="agent-stats">
        <dt>CPU</dt><dd>{s.cpu_percent.toFixed(1)} %</dd>
        <dt>Memory</dt><dd>{bytes(s.memory_used_bytes)} of {bytes(s.memory_limit_bytes)} ({s.memory_percent.toFixed(1)} %)</dd>
        <dt>Network</dt><dd>{bytes(s.network_rx_bytes)} in, {bytes(s.network_tx_bytes)} out</dd>
        <dt>Uptime</dt><dd>{span(Math.floor(s.uptime_seconds))}</dd>
      </dl>}
      <p class="muted">Every 2 s.</p>
    </>
  );
}

function Logs(props: { name: string }) {
  const [tail, setTail] = useState(200);
  const [follow, setFollow] = useState(true);
  const logs = usePoll(() => agents.logs(props.name, tail), follow ? 3000 : 0, [props.name, tail, follow]);
  return (
    <>
      <div class="bar">
        <label class="inline">Lines<select value={String(tail)} onChange={e => setTail(Number((e.target as HTMLSelectElement).value))}>
          {[100, 200, 1000, 10000].map(n => <option value={String(n)}>{n}</option>)}
        </select></label>
        <label class="inline"><input type="checkbox" checked={follow} onChange={e => setFollow((e.target as HTMLInputElement).checked)} /> Follow</label>
        <button onClick={logs.reload}>Refresh</button>
      </div>
      {logs.error && <p class="error" role="alert">{logs.error}</p>}
      <pre class="mono file" id="agent-logs" tabIndex={0} aria-label="Agent logs">{logs.data ? (logs.data.logs || '(no output yet)') : 'Loading…'}</pre>
    </>
  );
}

function Workspace(props: { name: string }) {
  const tree = usePoll(() => agents.files(props.name), 0, [props.name]);
  const [err, setErr] = useState('');
  const download = async (p: string, name: string) => {
    setErr('');
    try {
      const url = URL.createObjectURL(await agents.download(props.name, p));
      const el = document.createElement('a');
      el.href = url; el.download = name; el.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) { setErr((e as Error).message); }
  };
  const rows = tree.data ? flatten(tree.data.tree) : [];
  return (
    <>
      <div class="bar"><h2>Workspace</h2><button onClick={tree.reload}>Refresh</button>
        {tree.data && <span class="muted">{tree.data.total_files} files{tree.data.truncated ? ' (truncated)' : ''}</span>}</div>
      {(tree.error || err) && <p class="error" role="alert">{tree.error || err}</p>}
      <table class="grid small" id="agent-files">
        <thead><tr><th scope="col">Path</th><th scope="col">Size</th></tr></thead>
        <tbody>{rows.map(r => (
          <tr data-path={r.path}>
            <td style={{ paddingLeft: `${0.5 + r.depth * 1.2}rem` }}>{r.dir ? `${r.name}/`
              : <button class="link" aria-label={`Download ${r.path}`} onClick={() => download(r.path, r.name)}>{r.name}</button>}</td>
            <td>{r.dir ? '' : bytes(r.size || 0)}</td>
          </tr>
        ))}</tbody>
      </table>
    </>
  );
}

function Schedules(props: { name: string }) {
  const list = usePoll(() => agents.schedules(props.name), 5000, [props.name]);
  // Each schedule's executions (the server has no agent-wide route), newest first.
  const ids = (list.data || []).map(s => s.id);
  const runs = usePoll(async () => mergeRuns(await Promise.all(ids.map(id => agents.scheduleExecutions(props.name, id)))),
    3000, [props.name, ids.join(',')]);
  const [f, setF] = useState<Record<string, string>>({ kind: 'command', cron: '*/5 * * * *' });
  const [err, setErr] = useState('');
  const set = (k: string) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const add = async (e: Event) => {
    e.preventDefault(); setErr('');
    try { await agents.addSchedule(props.name, scheduleRequest(f)); setF({ ...f, name: '', text: '' }); list.reload(); }
    catch (x) { setErr((x as Error).message); }
  };
  const del = async (id: string, name: string) => {
    if (!confirm(`Delete schedule ${name}?`)) return;
    try { await agents.deleteSchedule(props.name, id); list.reload(); } catch (x) { setErr((x as Error).message); }
  };
  return (
    <>
      <form class="card create" onSubmit={add} aria-label="New schedule">
        <label>Schedule name<input required value={f.name || ''} onInput={set('name')} /></label>
        <label>Cron<input required class="mono" value={f.cron} onInput={set('cron')} /></label>
        <label>Timezone<input placeholder="UTC" value={f.timezone || ''} onInput={set('timezone')} /></label>
        <label>Kind<select value={f.kind} onChange={set('kind')}>
          <option value="command">command (sh -c)</option><option value="message">message to the runtime</option>
        </select></label>
        <label>{f.kind === 'message' ? 'Message' : 'Command'}<input required class="mono" value={f.text || ''} onInput={set('text')} /></label>
        <button type="submit">Add schedule</button>
        {err && <p class="error" role="alert">{err}</p>}
      </form>
      {list.error && <p class="error">{list.error}</p>}
      <table class="grid" id="schedules">
        <thead><tr><th scope="col">Name</th><th scope="col">Cron</th><th scope="col">Runs</th><th scope="col">Enabled</th>
          <th scope="col">Last</th><th scope="col">Next</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>{(list.data || []).map(s => (
          <tr data-schedule={s.name}>
            <td>{s.name}</td><td class="mono">{s.cron_expression} {s.timezone !== 'UTC' ? s.timezone : ''}</td>
            <td class="mono">{s.command || s.message}</td><td>{s.enabled ? 'yes' : 'no'}</td>
            <td>{s.last_run_at || ''}</td><td>{s.next_run_at || ''}</td>
            <td><button class="danger" aria-label={`Delete schedule ${s.name}`} onClick={() => del(s.id, s.name)}>Delete</button></td>
          </tr>
        ))}</tbody>
      </table>
      <h2>Executions</h2>
      {runs.error && <p class="error">{runs.error}</p>}
      <table class="grid small" id="executions">
        <thead><tr><th scope="col">Started</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Output</th></tr></thead>
        <tbody>{(runs.data || []).map(x => (
          <tr><td>{x.started_at}</td><td><span class={`state ${x.status === 'success' ? 'running' : 'failed'}`}>{x.status}</span></td>
            <td>{x.duration_ms != null ? `${x.duration_ms} ms` : ''}</td>
            <td><pre class="mono">{x.error || x.response || ''}</pre></td></tr>
        ))}</tbody>
      </table>
    </>
  );
}

function SSH(props: { name: string }) {
  const [ttl, setTtl] = useState('4');
  const [acc, setAcc] = useState<SSHAccess | null>(null);
  const [err, setErr] = useState('');
  const [copied, setCopied] = useState('');
  const grant = async (e: Event) => {
    e.preventDefault(); setErr(''); setAcc(null);
    try { setAcc(await agents.sshAccess(props.name, Number(ttl))); } catch (x) { setErr((x as Error).message); }
  };
  const copy = async (what: string, text: string) => {
    try { await navigator.clipboard.writeText(text); setCopied(what); } catch { setCopied(''); setErr('copying needs a secure context: select the text and copy it'); }
  };
  return (
    <>
      <form class="bar" onSubmit={grant} aria-label="SSH access">
        <label class="inline">Valid for (hours)<input type="number" min="0.1" max="24" step="0.1" value={ttl}
          onInput={e => setTtl((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Get SSH access</button>
      </form>
      <p class="muted">Makes a new ED25519 key pair on the server; only its public half is kept.</p>
      {err && <p class="error" role="alert">{err}</p>}
      {acc && <div class="card" id="ssh-access">
        <p>Expires {acc.expires_at}.</p>
        <div class="bar"><span>Command</span><code id="ssh-cmd" aria-label="SSH command">{acc.connection.command}</code>
          <button onClick={() => copy('command', acc.connection.command)}>Copy command</button></div>
        {acc.private_key && <>
          <p class="warn" role="alert"><strong>The private key is shown once.</strong> Save it now (for example to the
            file the command names, mode 0600): the server does not keep it and cannot show it again.</p>
          <label for="ssh-key">Private key</label>
          <textarea id="ssh-key" class="mono" rows={8} readOnly value={acc.private_key} />
          <button onClick={() => copy('key', acc.private_key!)}>Copy private key</button>
        </>}
        {copied && <p role="status">Copied the {copied}.</p>}
        <ul>{(acc.instructions || []).map(i => <li>{i}</li>)}</ul>
      </div>}
    </>
  );
}
