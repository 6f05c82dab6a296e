import { useState } from 'preact/hooks';
import { api, call } from '../api';
import { usePoll } from '../hooks';

/** Templates lists the templates and the warm pools' fill; admins can replace the templates
 * file (PUT /templates validates it as a whole). */
export function Templates() {
  const t = usePoll(() => api.templates(), 0);
  const pools = usePoll(() => api.pools(), 5000);
  const [text, setText] = useState<string | null>(null);
  const [msg, setMsg] = useState('');
  const own = (t.data || []).filter(x => x.source === 'file');
  const save = async () => {
    try {
      const body = JSON.parse(text || '[]');
      await call('PUT', '/templates', body);
      setMsg('Saved: the templates are in effect.');
      setText(null); t.reload();
    } catch (e) { setMsg((e as Error).message); }
  };
  return (
    <section aria-labelledby="t-h">
      <h1 id="t-h">Templates and pools</h1>
      {t.error && <p class="error" role="alert">{t.error}</p>}
      <table class="grid" id="templates">
        <thead><tr><th scope="col">Name</th><th scope="col">Source</th><th scope="col">Image</th><th scope="col">Profile</th><th scope="col">Pool</th><th scope="col">Description</th></tr></thead>
        <tbody>{(t.data || []).map(x => (
          <tr><td>{String(x.name)}</td><td>{String(x.source || '')}</td><td>{String(x.image || '')}</td>
            <td>{String(x.profile || '')}</td><td>{x.pool ? `size ${(x.pool as { size: number }).size}` : ''}</td><td>{String(x.description || '')}</td></tr>
        ))}</tbody>
      </table>
      <h2>Edit the templates file</h2>
      <p class="muted">Admins only. The file's templates as JSON; the server validates the whole file and names the template and field it refuses.</p>
      {text === null
        ? <button onClick={() => setText(JSON.stringify(own.map(({ source, ...rest }) => rest), null, 2))}>Edit</button>
        : <>
          <label class="sr" for="tpl-json">Templates JSON</label>
          <textarea id="tpl-json" class="mono" rows={16} value={text} onInput={e => setText((e.target as HTMLTextAreaElement).value)} />
          <p class="bar"><button onClick={save}>Validate and save</button><button onClick={() => setText(null)}>Cancel</button></p>
        </>}
      {msg && <p role="status">{msg}</p>}
      <h2>Warm pools</h2>
      {pools.error && <p class="error">{pools.error}</p>}
      <pre class="mono file" id="pools">{pools.data ? JSON.stringify(pools.data, null, 2) : ''}</pre>
    </section>
  );
}
