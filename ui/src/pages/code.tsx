import { useEffect, useRef, useState } from 'preact/hooks';
import { api, Kernel } from '../api';
import { applyCellEvent, CellView } from '../cells';

interface Cell { id: number; code: string; language: string; view?: CellView; error?: string; running?: boolean }

/** Code is a notebook on a KernelBox kernel that runs in this sandbox: state persists
 * between cells; output shows as it comes (the streamed execute route); PNG results are
 * shown as images, errors with their traceback. */
export function Code(props: { name: string }) {
  const [kernel, setKernel] = useState<Kernel | null>(null);
  const [cells, setCells] = useState<Cell[]>([{ id: 1, code: '', language: 'python' }]);
  const [msg, setMsg] = useState('');
  const aborts = useRef(new Map<number, AbortController>());
  const kname = `ui-${props.name}`;
  useEffect(() => {
    api.kernels().then(k => setKernel(k.kernels.find(x => x.name === kname) || null)).catch(e => setMsg(e.message));
  }, [props.name]);
  const ensureKernel = async (): Promise<Kernel> => {
    if (kernel) return kernel;
    const k = await api.createKernel(kname, props.name, 'python');
    setKernel(k);
    return k;
  };
  const update = (id: number, patch: Partial<Cell>) => setCells(cs => cs.map(c => (c.id === id ? { ...c, ...patch } : c)));
  const run = async (c: Cell) => {
    const ac = new AbortController();
    aborts.current.set(c.id, ac);
    let view: CellView = { outputs: [] };
    update(c.id, { running: true, view, error: undefined });
    try {
      const k = await ensureKernel();
      await api.executeStream(k.kernel_id, c.code, c.language, (event, data) => {
        view = applyCellEvent(view, event, data);
        update(c.id, { view });
      }, ac.signal);
      update(c.id, { running: false, error: view.error || (view.result ? undefined : 'the stream ended before the cell did') });
    } catch (e) {
      update(c.id, { running: false, error: ac.signal.aborted ? 'interrupted: the kernel stopped the cell and kept its state' : (e as Error).message });
    } finally { aborts.current.delete(c.id); }
  };
  const restart = async () => {
    if (!kernel) return;
    try { await api.restartKernel(kernel.kernel_id); setMsg('Kernel restarted: all state cleared.'); }
    catch (e) { setMsg((e as Error).message); }
  };
  return (
    <div>
      <p class="bar"><span class="muted">Kernel: {kernel ? `${kernel.name} (${kernel.status})` : 'starts with the first cell'}</span>
        <button onClick={restart} disabled={!kernel}>Restart kernel</button>
        <button onClick={() => setCells(cs => [...cs, { id: Math.max(0, ...cs.map(x => x.id)) + 1, code: '', language: 'python' }])}>Add cell</button></p>
      {msg && <p role="status">{msg}</p>}
      {cells.map((c, i) => (
        <div class="cell" data-cell={i}>
          <div class="bar">
            <label class="inline">Language<select value={c.language} onChange={e => update(c.id, { language: (e.target as HTMLSelectElement).value })}>
              <option>python</option><option>javascript</option><option>bash</option></select></label>
            <button onClick={() => run(c)} disabled={c.running}>Run</button>
            {c.running && <button onClick={() => aborts.current.get(c.id)?.abort()}>Interrupt</button>}
          </div>
          <label class="sr" for={`cell-${c.id}`}>Cell {i + 1}</label>
          <textarea id={`cell-${c.id}`} class="mono" rows={Math.max(3, c.code.split('\n').length)} value={c.code}
            spellcheck={false}
            onInput={e => update(c.id, { code: (e.target as HTMLTextAreaElement).value })}
            onKeyDown={e => { if (e.key === 'Enter' && e.shiftKey) { e.preventDefault(); run(c); } }} />
          {c.view && (c.view.outputs.length > 0 || c.view.result) && <Result v={c.view} />}
          {c.running && <p class="muted" role="status">Running…</p>}
          {c.error && <p class="error" role="alert">{c.error}</p>}
        </div>
      ))}
    </div>
  );
}

function Result(props: { v: CellView }) {
  const r = props.v.result;
  const items = props.v.outputs;
  return (
    <div class="out" aria-live="polite">
      {items.map(o => {
        if (o.kind === 'stream') return <pre class={o.name === 'stderr' ? 'stderr' : ''}>{o.text}</pre>;
        if (o.kind === 'error') return null;
        const png = o.data?.['image/png'];
        if (png) return <img alt="plot" src={`data:image/png;base64,${png}`} />;
        // HTML from the sandbox never runs in the UI's origin: a sandboxed frame (no
        // scripts, an opaque origin of its own) shows it.
        const html = o.data?.['text/html'];
        if (html) return <iframe class="html" sandbox="" srcdoc={html} title="HTML result" />;
        const text = o.data?.['text/plain'] ?? o.text;
        return text ? <pre>{text}</pre> : null;
      })}
      {r?.error && <pre class="traceback" role="alert">{r.error.traceback?.length ? r.error.traceback.join('\n') : `${r.error.ename}: ${r.error.evalue}`}</pre>}
      {r && <p class="muted">[{r.execution_count}] {r.status} in {r.duration_ms} ms</p>}
    </div>
  );
}
