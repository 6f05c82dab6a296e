import { useRef, useState } from 'preact/hooks';
import { runs } from '../api';
import { sessions, stream } from '../runapi';
import { emptyRunForm, RunForm, runRequest, TOOLS } from '../runform';
import { applyEvent, RunEvent, RunView, usd } from '../sse';
import { usePoll } from '../hooks';
import { when } from '../format';
import { Link } from '../router';

/** Runs is Sandcaster's run history, a form that starts a run (with its options, or as a
 * session) and shows it as it streams, and the sessions, which continue. */
export function Runs(props: { id?: string }) {
  const list = usePoll(() => runs.list(), 5000);
  return (
    <section aria-labelledby="r-h">
      <h1 id="r-h">Runs</h1>
      {props.id ? <PastRun id={props.id} /> : <><NewRun onDone={list.reload} /><Sessions onTurn={list.reload} /></>}
      <h2>History</h2>
      {list.error && <p class="error" role="alert">{list.error}</p>}
      <table class="grid" id="runs">
        <thead><tr><th scope="col">Started</th><th scope="col">Prompt</th><th scope="col">Model</th><th scope="col">Status</th>
          <th scope="col">Turns</th><th scope="col">Tokens in/out</th><th scope="col">Cost</th><th scope="col">Duration</th></tr></thead>
        <tbody>{(list.data || []).map(r => (
          <tr data-run={r.id}>
            <td><Link to={`runs/${encodeURIComponent(r.id)}`}><time dateTime={r.startedAt}>{when(r.startedAt)}</time></Link></td>
            <td>{r.prompt.length > 80 ? r.prompt.slice(0, 80) + '…' : r.prompt}</td>
            <td>{r.model || ''}</td>
            <td><span class={`state ${r.status === 'completed' ? 'running' : r.status === 'error' ? 'failed' : ''}`}>{r.status}</span>{r.error ? ` ${r.error}` : ''}</td>
            <td>{r.numTurns ?? ''}</td><td>{r.inputTokens ?? ''} / {r.outputTokens ?? ''}</td>
            <td>{usd(r.costUsd)}</td><td>{r.durationSecs != null ? `${r.durationSecs.toFixed(1)} s` : ''}</td>
          </tr>
        ))}</tbody>
      </table>
    </section>
  );
}

function NewRun(props: { onDone: () => void }) {
  const [f, setF] = useState<RunForm>(emptyRunForm);
  const [view, setView] = useState<RunView | null>(null);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const set = (k: keyof RunForm) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const start = async (e: Event) => {
    e.preventDefault();
    setErr('');
    let req: Record<string, unknown>;
    try { req = runRequest(f); } catch (x) { setErr((x as Error).message); return; }
    setBusy(true);
    let v: RunView = { items: [] };
    setView(v);
    abort.current = new AbortController();
    try {
      await stream(f.session ? '/sessions' : '/query', req,
        ev => { v = applyEvent(v, ev as unknown as RunEvent); setView(v); }, abort.current.signal);
    } catch (x) {
      if ((x as Error).name !== 'AbortError') setErr((x as Error).message);
    } finally { setBusy(false); props.onDone(); }
  };
  const addFiles = async (list: FileList | null) => {
    const files = { ...f.files };
    for (const file of Array.from(list || [])) files[file.name] = await file.text();
    setF({ ...f, files });
  };
  const tool = (t: string) => (e: Event) => setF({ ...f,
    tools: (e.target as HTMLInputElement).checked ? [...f.tools, t] : f.tools.filter(x => x !== t) });
  return (
    <>
      <form class="card" onSubmit={start} aria-label="New run">
        <label for="run-prompt">Prompt</label>
        <textarea id="run-prompt" rows={3} required value={f.prompt} onInput={set('prompt')} />
        <details>
          <summary>Options</summary>
          <div class="create">
            <label>Provider<select value={f.provider} onChange={set('provider')}>
              <option value="">from the model</option>{['anthropic', 'openai', 'openrouter'].map(p => <option value={p}>{p}</option>)}
            </select></label>
            <label>Max turns<input type="number" min="1" placeholder="30" value={f.maxTurns} onInput={set('maxTurns')} /></label>
            <label>Timeout (s)<input type="number" min="5" max="3600" placeholder="300" value={f.timeout} onInput={set('timeout')} /></label>
            <label>Thinking<select value={f.thinkingLevel} onChange={set('thinkingLevel')}>
              <option value="">default</option>{['none', 'low', 'medium', 'high'].map(p => <option value={p}>{p}</option>)}
            </select></label>
            <label>Template<input placeholder="base" value={f.template} onInput={set('template')} /></label>
          </div>
          <fieldset class="bar"><legend>Allowed tools</legend>
            {TOOLS.map(t => <label class="inline"><input type="checkbox" checked={f.tools.includes(t)} onChange={tool(t)} /> {t}</label>)}
          </fieldset>
          <fieldset><legend>Files written into the workspace first</legend>
            <label class="inline">Add files<input type="file" multiple onChange={e => addFiles((e.target as HTMLInputElement).files)} /></label>
            <ul id="run-files">{Object.entries(f.files).map(([p, c]) => (
              <li data-file={p}><code>{p}</code> ({c.length} characters) <button type="button" class="link" aria-label={`Remove ${p}`}
                onClick={() => { const files = { ...f.files }; delete files[p]; setF({ ...f, files }); }}>remove</button></li>
            ))}</ul>
          </fieldset>
        </details>
        <p class="bar">
          <label class="inline">Model<input value={f.model} onInput={set('model')} /></label>
          <label class="inline"><input type="checkbox" checked={f.session}
            onChange={e => setF({ ...f, session: (e.target as HTMLInputElement).checked })} /> Keep as a session</label>
          {f.session && <label class="inline">Session name<input value={f.sessionName} maxLength={100} onInput={set('sessionName')} /></label>}
          <button type="submit" disabled={busy}>{busy ? 'Running…' : 'Run'}</button>
          {busy && <button type="button" onClick={() => abort.current?.abort()}>Stop</button>}
        </p>
        {err && <p class="error" role="alert">{err}</p>}
      </form>
      {view && <RunOutput v={view} live={busy} />}
    </>
  );
}

/** Sessions lists the caller's Sandcaster sessions; one opens with its turns, takes the next
 * message (streamed like a run) and ends. */
function Sessions(props: { onTurn: () => void }) {
  const list = usePoll(() => sessions.list(), 5000);
  const [open, setOpen] = useState('');
  return (
    <>
      <h2>Sessions</h2>
      {list.error && <p class="error" role="alert">{list.error}</p>}
      <table class="grid" id="sessions">
        <thead><tr><th scope="col">Session</th><th scope="col">Status</th><th scope="col">Messages</th><th scope="col">Cost</th>
          <th scope="col">Last activity</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>{(list.data || []).map(x => (
          <tr data-session={x.id}>
            <td>{x.name || <code>{x.id}</code>}</td>
            <td><span class={`state ${x.status === 'ended' ? '' : 'running'}`}>{x.status}</span>{x.endReason ? ` (${x.endReason})` : ''}</td>
            <td>{x.runsCount}</td><td>{usd(x.totalCostUsd)}</td><td><time dateTime={x.lastActivityAt || x.createdAt}>{when(x.lastActivityAt || x.createdAt)}</time></td>
            <td><button aria-expanded={open === x.id} aria-label={`Open session ${x.name || x.id}`}
              onClick={() => setOpen(open === x.id ? '' : x.id)}>Open</button></td>
          </tr>
        ))}</tbody>
      </table>
      {list.data && !list.data.length && <p class="muted">No sessions: tick "Keep as a session" to start one.</p>}
      {open && <SessionView key={open} id={open} onTurn={() => { list.reload(); props.onTurn(); }} />}
    </>
  );
}

function SessionView(props: { id: string; onTurn: () => void }) {
  const ss = usePoll(() => sessions.get(props.id), 0, [props.id]);
  const [prompt, setPrompt] = useState('');
  const [view, setView] = useState<RunView | null>(null);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const send = async (e: Event) => {
    e.preventDefault(); setErr(''); setBusy(true);
    let v: RunView = { items: [] };
    setView(v);
    try {
      await stream(sessions.messagePath(props.id), { prompt }, ev => { v = applyEvent(v, ev as unknown as RunEvent); setView(v); });
      setPrompt('');
    } catch (x) { setErr((x as Error).message); } finally { setBusy(false); ss.reload(); props.onTurn(); }
  };
  const end = async () => {
    setErr('');
    try { await sessions.end(props.id); ss.reload(); props.onTurn(); } catch (x) { setErr((x as Error).message); }
  };
  const d = ss.data;
  const live = d && d.status !== 'ended';
  return (
    <div class="card" id="session" role="group" aria-label={`Session ${props.id}`}>
      {ss.error && <p class="error" role="alert">{ss.error}</p>}
      {d && <>
        <p class="bar"><strong>{d.name || d.id}</strong><span class="muted">{d.status}{d.endReason ? `: ${d.endReason}` : ''},
          {' '}{d.runsCount} messages, {d.totalTurns ?? 0} model turns, {usd(d.totalCostUsd)}</span>
          {live && <button class="danger" onClick={end}>End session</button>}</p>
        <ol id="session-runs">{d.runs.map(r => (
          <li><Link to={`runs/${encodeURIComponent(r.id)}`}>{r.prompt.length > 80 ? r.prompt.slice(0, 80) + '…' : r.prompt}</Link>
            {' '}<span class="muted">{r.status}, {r.numTurns ?? 0} turns, {usd(r.costUsd)}</span></li>
        ))}</ol>
        {live && <form onSubmit={send} aria-label="Continue the session">
          <label for="session-prompt">Next message</label>
          <textarea id="session-prompt" rows={2} required value={prompt} onInput={e => setPrompt((e.target as HTMLTextAreaElement).value)} />
          <p><button type="submit" disabled={busy}>{busy ? 'Running…' : 'Send'}</button></p>
        </form>}
      </>}
      {err && <p class="error" role="alert">{err}</p>}
      {view && <RunOutput v={view} live={busy} id="session-output" />}
    </div>
  );
}

function PastRun(props: { id: string }) {
  const r = usePoll(() => runs.get(props.id), 0, [props.id]);
  const v = r.data ? r.data.events.reduce<RunView>((v, ev) => applyEvent(v, ev as unknown as RunEvent), { items: [] }) : null;
  return (
    <>
      <p><Link to="runs">New run</Link></p>
      {r.error && <p class="error" role="alert">{r.error}</p>}
      {r.data && <p class="muted">Prompt: {r.data.prompt}</p>}
      {v && <RunOutput v={v} live={false} />}
    </>
  );
}

/** RunOutput draws a run's view: assistant text, tool calls with their results, notes, and the
 * result (cost, tokens, turns) or the error at the end. */
function RunOutput(props: { v: RunView; live: boolean; id?: string }) {
  const { v } = props;
  return (
    <div id={props.id || 'run-output'} aria-live="polite" aria-busy={props.live}>
      {v.items.map(it => {
        if (it.kind === 'text') return <p class="assistant">{it.text}</p>;
        if (it.kind === 'thinking') return <details><summary>Thinking</summary><pre class="mono">{it.text}</pre></details>;
        if (it.kind === 'tool') return (
          <details class="tool" open>
            <summary>Tool <code>{it.name}</code></summary>
            <pre class="mono">{it.input}</pre>
            {it.result !== undefined && <pre class={`mono ${it.isError ? 'stderr' : ''}`}>{it.result}</pre>}
          </details>);
        return <p class="muted note">[{it.type}] {it.text}</p>;
      })}
      {v.result && <p class="result" id="run-result">Done ({v.result.subtype}): {v.result.numTurns} turns, {v.result.inputTokens} in /
        {' '}{v.result.outputTokens} out tokens, {v.result.durationSecs?.toFixed(1)} s, cost {usd(v.result.costUsd)}{v.result.model ? ` (${v.result.model})` : ''}</p>}
      {v.error && <p class="error" role="alert">{v.error.code}: {v.error.content}{v.error.hint ? ` (${v.error.hint})` : ''}</p>}
    </div>
  );
}
