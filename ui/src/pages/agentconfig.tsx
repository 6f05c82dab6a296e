// An agent's settings (rename, tags, execution timeout, read-only mode, shared folders), its
// sharing and its credentials: the configuration routes of docs/trinity.md.
import { useState } from 'preact/hooks';
import type { Agent } from '../api';
import { agentConfig } from '../agentapi';
import { agentName, credentialFiles, parsePatterns, parseTags, timeoutSeconds } from '../agents';
import { bytes } from '../format';
import { usePoll } from '../hooks';
import { navigate } from '../router';

/** useAct runs an action and keeps its outcome: an error, or a status line. */
function useAct() {
  const [err, setErr] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (f: () => Promise<string | void>) => {
    setErr(''); setNote(''); setBusy(true);
    try { setNote((await f()) || ''); } catch (e) { setErr((e as Error).message); } finally { setBusy(false); }
  };
  const out = <>{note && <p role="status" class="muted">{note}</p>}{err && <p class="error" role="alert">{err}</p>}</>;
  return { run, busy, out };
}

const val = (e: Event) => (e.target as HTMLInputElement).value;

/** SHARED says why a user an agent is shared with sees the server refuse changes. */
const SHARED = <p class="warn">This agent is shared with you: you may read its configuration; only its owner and admins change it.</p>;

/** mayChange reports whether the caller may change the agent (the detail's can_share: owner or admin). */
export const mayChange = (a: Agent) => (a as Agent & { can_share?: boolean }).can_share !== false;

/** Settings is the owner's configuration of an agent. */
export function Settings(props: { a: Agent; onChange: () => void }) {
  const { a } = props;
  return (
    <>{!mayChange(a) && SHARED}<div class="cols">
      <div>
        <Rename a={a} />
        <Tags a={a} onChange={props.onChange} />
        <Timeout a={a} onChange={props.onChange} />
      </div>
      <div>
        <ReadOnlyMode name={a.name} onChange={props.onChange} />
        <SharedFolders name={a.name} />
      </div>
    </div></>
  );
}

function Rename(props: { a: Agent }) {
  const [name, setName] = useState(props.a.name);
  const act = useAct();
  const submit = (e: Event) => {
    e.preventDefault();
    act.run(async () => {
      const r = await agentConfig.rename(props.a.name, name);
      navigate(`agents/${encodeURIComponent(r.new_name)}/settings`);
    });
  };
  const named = agentName(name);
  return (
    <form class="card" onSubmit={submit} aria-label="Rename">
      <h2>Name</h2>
      <p class="bar"><label class="inline">New name<input required value={name} onInput={e => setName(val(e))} /></label>
        <button type="submit" disabled={act.busy || named === props.a.name}>Rename</button></p>
      {name && named !== name && <p class="hint">Will be named <code>{named}</code>.</p>}
      <p class="muted">The agent keeps running; its sandbox, workspace and schedules stay.</p>
      {act.out}
    </form>
  );
}

function Tags(props: { a: Agent; onChange: () => void }) {
  const tags = props.a.tags || [];
  const [add, setAdd] = useState('');
  const act = useAct();
  const save = (next: string[]) => act.run(async () => { await agentConfig.setTags(props.a.name, next); props.onChange(); });
  const submit = (e: Event) => {
    e.preventDefault();
    act.run(async () => {
      await agentConfig.setTags(props.a.name, [...tags, ...parseTags(add)]);
      setAdd(''); props.onChange();
    });
  };
  return (
    <form class="card" onSubmit={submit} aria-label="Tags">
      <h2>Tags</h2>
      <ul id="agent-tags" style={{ listStyle: 'none', display: 'flex', flexWrap: 'wrap', gap: '.6rem', padding: 0 }}>{tags.map(t => (
        <li data-tag={t}>{t} <button type="button" class="link" aria-label={`Remove tag ${t}`}
          onClick={() => save(tags.filter(x => x !== t))}>×</button></li>
      ))}{!tags.length && <li class="muted">none</li>}</ul>
      <p class="bar"><label class="inline">Add tags<input value={add} placeholder="prod, research" onInput={e => setAdd(val(e))} /></label>
        <button type="submit" disabled={act.busy}>Add</button></p>
      {act.out}
    </form>
  );
}

function Timeout(props: { a: Agent; onChange: () => void }) {
  const [min, setMin] = useState(String((props.a.execution_timeout_seconds || 900) / 60));
  const act = useAct();
  const submit = (e: Event) => {
    e.preventDefault();
    act.run(async () => { await agentConfig.setTimeout(props.a.name, timeoutSeconds(min)); props.onChange(); return 'Saved.'; });
  };
  return (
    <form class="card" onSubmit={submit} aria-label="Execution timeout">
      <h2>Execution timeout</h2>
      <p class="bar"><label class="inline">Minutes<input type="number" min="1" max="120" step="any" value={min}
        onInput={e => setMin(val(e))} /></label><button type="submit" disabled={act.busy}>Save timeout</button></p>
      <p class="muted">How long a schedule's fire may run (1–120 minutes) before it is killed.</p>
      {act.out}
    </form>
  );
}

function ReadOnlyMode(props: { name: string; onChange: () => void }) {
  const ro = usePoll(() => agentConfig.readOnly(props.name), 0, [props.name]);
  const [allowed, setAllowed] = useState<string | null>(null);
  const act = useAct();
  const r = ro.data;
  const text = allowed ?? (r?.config.allowed_patterns || []).join('\n');
  const apply = (enabled: boolean) => act.run(async () => {
    const res = await agentConfig.setReadOnly(props.name, enabled, allowed === null ? undefined : parsePatterns(allowed));
    setAllowed(null); ro.reload(); props.onChange();
    return res.message;
  });
  return (
    <div class="card" role="group" aria-labelledby="ro-h">
      <h2 id="ro-h">Read-only mode</h2>
      {ro.error && <p class="error">{ro.error}</p>}
      {r && <>
        <p class="bar"><span id="ro-state">{r.enabled ? 'On' : 'Off'}</span>
          <button disabled={act.busy} aria-pressed={r.enabled} onClick={() => apply(!r.enabled)}>
            {r.enabled ? 'Turn read-only off' : 'Turn read-only on'}</button></p>
        <label for="ro-allowed">Allowed patterns (one a line)</label>
        <textarea id="ro-allowed" class="mono" rows={5} value={text} onInput={e => setAllowed(val(e))} />
        <p class="bar"><button disabled={act.busy || allowed === null} onClick={() => apply(r.enabled)}>Save patterns</button>
          <span class="muted">Writable: {r.writable_dirs.join(', ') || 'nothing'}</span></p>
        <p class="muted">The workspace is mounted read-only; patterns that name a directory (<code>output/*</code>) stay
          writable. A running agent is restarted to apply it.</p>
      </>}
      {act.out}
    </div>
  );
}

function SharedFolders(props: { name: string }) {
  const f = usePoll(() => agentConfig.folders(props.name), 0, [props.name]);
  const avail = usePoll(() => agentConfig.available(props.name), 0, [props.name]);
  const cons = usePoll(() => agentConfig.consumers(props.name), 0, [props.name]);
  const act = useAct();
  const set = (req: { expose_enabled?: boolean; consume_enabled?: boolean }) =>
    act.run(async () => { const r = await agentConfig.setFolders(props.name, req); f.reload(); avail.reload(); cons.reload(); return r.message; });
  const d = f.data;
  return (
    <div class="card" role="group" aria-labelledby="sf-h" id="folders">
      <h2 id="sf-h">Shared folders</h2>
      {f.error && <p class="error">{f.error}</p>}
      {d && <>
        <p><label class="inline"><input type="checkbox" checked={d.expose_enabled} disabled={act.busy}
          onChange={e => set({ expose_enabled: (e.target as HTMLInputElement).checked })} /> Expose <code>{d.exposed_path}</code> to other agents</label></p>
        <p><label class="inline"><input type="checkbox" checked={d.consume_enabled} disabled={act.busy}
          onChange={e => set({ consume_enabled: (e.target as HTMLInputElement).checked })} /> Mount the folders other agents expose</label></p>
        {d.restart_required && <p class="warn">Restart the agent to apply the change.</p>}
        {d.consumed_folders.length > 0 && <><h3>Mounted here</h3><ul>{d.consumed_folders.map(c =>
          <li><code>{c.mount_path}</code> from {c.source_agent}{c.currently_mounted ? '' : ' (at the next start)'}</li>)}</ul></>}
      </>}
      {avail.data && avail.data.available_folders.length > 0 && <><h3>Available</h3><ul>{avail.data.available_folders.map(x =>
        <li>{x.source_agent} ({x.source_status}) at <code>{x.mount_path}</code></li>)}</ul></>}
      {cons.data && cons.data.consumers.length > 0 && <><h3>Consumers</h3><ul>{cons.data.consumers.map(x =>
        <li>{x.agent_name} ({x.status})</li>)}</ul></>}
      {act.out}
    </div>
  );
}

/** Sharing lists who the agent is shared with; the owner shares it by email and unshares. */
export function Sharing(props: { name: string; owner: boolean }) {
  const list = usePoll(() => agentConfig.shares(props.name), 0, [props.name]);
  const [email, setEmail] = useState('');
  const act = useAct();
  const share = (e: Event) => {
    e.preventDefault();
    act.run(async () => { await agentConfig.share(props.name, email.trim()); setEmail(''); list.reload(); });
  };
  const unshare = (em: string) => act.run(async () => { await agentConfig.unshare(props.name, em); list.reload(); });
  return (
    <>
      {!props.owner && SHARED}
      <form class="bar" onSubmit={share} aria-label="Share">
        <label class="inline">Share with (email)<input type="email" required value={email} onInput={e => setEmail(val(e))} /></label>
        <button type="submit" disabled={act.busy}>Share</button>
      </form>
      <p class="muted">A user it is shared with sees the agent, starts and stops it, reads its files, logs and
        configuration; only the owner and admins change, share or delete it.</p>
      {act.out}
      {list.error && <p class="error">{list.error}</p>}
      <table class="grid" id="shares">
        <thead><tr><th scope="col">Shared with</th><th scope="col">By</th><th scope="col">Since</th>
          <th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>{(list.data || []).map(s => (
          <tr data-share={s.shared_with_email}><td>{s.shared_with_email}</td><td>{s.shared_by_email}</td><td>{s.created_at}</td>
            <td><button class="danger" aria-label={`Unshare ${s.shared_with_email}`} onClick={() => unshare(s.shared_with_email)}>Unshare</button></td></tr>
        ))}</tbody>
      </table>
      {list.data && !list.data.length && <p class="muted">Not shared with anyone.</p>}
    </>
  );
}

/** Credentials injects files into the workspace (their content is never shown back), lists
 * what is there, and exports or imports the encrypted bundle. */
export function Credentials(props: { name: string; running: boolean }) {
  const st = usePoll(() => props.running ? agentConfig.credentials(props.name) : Promise.resolve(undefined), 0, [props.name, props.running]);
  const [path, setPath] = useState('.env');
  const [content, setContent] = useState('');
  const [bundle, setBundle] = useState('');
  const act = useAct();
  const inject = (e: Event) => {
    e.preventDefault();
    act.run(async () => {
      const r = await agentConfig.inject(props.name, credentialFiles(path, content));
      setContent(''); st.reload();
      return `Wrote ${r.files_written.join(', ')}.`;
    });
  };
  const exp = () => act.run(async () => {
    const r = await agentConfig.exportBundle(props.name);
    setBundle(JSON.stringify(r.bundle)); st.reload();
    return `Exported ${r.files_exported} files to ${r.encrypted_file}.`;
  });
  const imp = () => act.run(async () => {
    let b: unknown;
    if (bundle.trim()) { try { b = JSON.parse(bundle); } catch { throw new Error('bundle: not JSON'); } }
    const r = await agentConfig.importBundle(props.name, b);
    st.reload();
    return `Imported ${r.files_imported.join(', ')}.`;
  });
  const files = Object.entries(st.data?.files || {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      {!props.running && <p>The agent is stopped: start it to inject, list or export its credentials (they are written into its workspace).</p>}
      <form class="card create" onSubmit={inject} aria-label="Inject a credential">
        <label>Path in the workspace<input required class="mono" value={path} onInput={e => setPath(val(e))} /></label>
        <label style={{ gridColumn: '1 / -1' }}>Content<textarea required class="mono" rows={4} autocomplete="off" spellcheck={false}
          value={content} onInput={e => setContent(val(e))} /></label>
        <button type="submit" disabled={act.busy || !props.running}>Inject</button>
      </form>
      <p class="muted">Written with mode 0600 and kept encrypted on the server for the next start. The content is never shown back.</p>
      {act.out}
      {st.error && <p class="error">{st.error}</p>}
      {st.data && <>
        <p>{st.data.credential_count} <code>KEY=VALUE</code> lines in <code>.env</code>.</p>
        <table class="grid small" id="credentials">
          <thead><tr><th scope="col">Path</th><th scope="col">Present</th><th scope="col">Size</th><th scope="col">Modified</th></tr></thead>
          <tbody>{files.map(([p, f]) => (
            <tr data-cred={p}><td class="mono">{p}</td><td>{f.exists ? 'yes' : 'no'}</td>
              <td>{f.size != null ? bytes(f.size) : ''}</td><td>{f.modified || ''}</td></tr>
          ))}</tbody>
        </table>
      </>}
      <div class="card" role="group" aria-labelledby="bundle-h">
        <h2 id="bundle-h">Encrypted bundle</h2>
        <p class="bar"><button disabled={act.busy || !props.running} onClick={exp}>Export</button>
          <button disabled={act.busy || !props.running} onClick={imp}>Import</button></p>
        <label for="bundle">Bundle (.credentials.enc; left empty, Import reads the workspace's own)</label>
        <textarea id="bundle" class="mono" rows={3} value={bundle} onInput={e => setBundle(val(e))} />
        <p class="muted">Sealed with the server's credential key (AES-256-GCM): safe to store; it opens only on a server with the same key.</p>
      </div>
    </>
  );
}
