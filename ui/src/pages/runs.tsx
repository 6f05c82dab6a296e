import { useRef, useState } from 'preact/hooks';
import { runs } from '../api';
import { applyEvent, RunEvent, RunView, usd } from '../sse';
import { usePoll } from '../hooks';
import { Link } from '../router';

/** Runs is Sandcaster's run history and a form that starts a run and shows it as it streams. */
export function Runs(props: { id?: string }) {
  const list = usePoll(() => runs.list(), 5000);
  return (
    <section aria-labelledby="r-h">
      <h1 id="r-h">Runs</h1>
      {props.id ? <PastRun id={props.id} /> : <NewRun onDone={list.reload} />}
      <h2>History</h2>
      {list.error && <p class="error" role="alert">{list.error}</p>}
      <table class="grid" id="runs">
        <thead><tr><th scope="col">Started</th><th scope="col">Prompt</th><th scope="col">Model</th><th scope="col">Status</th>
          <th scope="col">Turns</th><th scope="col">Tokens in/out</th><th scope="col">Cost</th><th scope="col">Duration</th></tr></thead>
        <tbody>{(list.data || []).map(r => (
          <tr data-run={r.id}>
            <td><Link to={`runs/${encodeURIComponent(r.id)}`}>{r.startedAt}</Link></td>
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
  const [prompt, setPrompt] = useState('');
  const [model, setModel] = useState('sonnet');
  const [view, setView] = useState<RunView | null>(null);
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const start = async (e: Event) => {
    e.preventDefault();
    setErr(''); setBusy(true);
    let v: RunView = { items: [] };
    setView(v);
    abort.current = new AbortController();
    try {
      await runs.query({ prompt, model }, ev => { v = applyEvent(v, ev as unknown as RunEvent); setView(v); }, abort.current.signal);
    } catch (x) {
      if ((x as Error).name !== 'AbortError') setErr((x as Error).message);
    } finally { setBusy(false); props.onDone(); }
  };
  return (
    <>
      <form class="card" onSubmit={start} aria-label="New run">
        <label for="run-prompt">Prompt</label>
        <textarea id="run-prompt" rows={3} required value={prompt} onInput={e => setPrompt((e.target as HTMLTextAreaElement).value)} />
        <p class="bar">
          <label class="inline">Model<input value={model} onInput={e => setModel((e.target as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={busy}>{busy ? 'Running…' : 'Run'}</button>
          {busy && <button type="button" onClick={() => abort.current?.abort()}>Stop</button>}
        </p>
        {err && <p class="error" role="alert">{err}</p>}
      </form>
      {view && <RunOutput v={view} live={busy} />}
    </>
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
function RunOutput(props: { v: RunView; live: boolean }) {
  const { v } = props;
  return (
    <div id="run-output" aria-live="polite" aria-busy={props.live}>
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
