import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { bytes } from '../format';
import { usePoll } from '../hooks';

/** joinPath joins a directory and a name into an absolute sandbox path. */
export function joinPath(dir: string, name: string): string {
  return (dir.replace(/\/+$/, '') + '/' + name.replace(/^\/+/, '')) || '/';
}

/** parentPath is the directory above p ("/" stays "/"). */
export function parentPath(p: string): string {
  const i = p.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** Files browses the sandbox's tree, opens text files, uploads by drag and drop (each
 * file's bytes streamed in a raw PUT) and downloads. */
export function Files(props: { name: string }) {
  const [dir, setDir] = useState('/tmp');
  const list = usePoll(() => api.files(props.name, dir), 0, [props.name, dir]);
  const [open, setOpen] = useState<{ path: string; text: string } | null>(null);
  const [msg, setMsg] = useState('');
  const [over, setOver] = useState(false);
  const upload = async (files: FileList | null) => {
    if (!files?.length) return;
    for (const f of Array.from(files)) {
      setMsg(`Uploading ${f.name} (${bytes(f.size)})…`);
      try { await api.writeFile(props.name, joinPath(dir, f.name), f); }
      catch (e) { setMsg(`${f.name}: ${(e as Error).message}`); return; }
    }
    setMsg(`Uploaded ${files.length} file${files.length > 1 ? 's' : ''}.`);
    list.reload();
  };
  const view = async (p: string) => {
    try {
      const f = await api.readFile(props.name, p);
      setOpen({ path: p, text: f.encoding === 'utf8' ? f.content : `(binary, ${bytes(f.size)}: download it)` });
    } catch (e) { setOpen({ path: p, text: (e as Error).message }); }
  };
  // A download goes through a short-lived URL that needs no key: the browser saves the file
  // as it streams. A server that signs no URLs (503) gets the old way: the file is read
  // into memory with the key in a header, then saved.
  const download = async (p: string) => {
    const a = document.createElement('a');
    a.download = p.split('/').pop() || 'file';
    try {
      a.href = (await api.downloadURL(props.name, p)).url;
      a.click();
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 503) { setMsg((e as Error).message); return; }
      try {
        a.href = URL.createObjectURL(await api.download(props.name, p));
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      } catch (e2) { setMsg((e2 as Error).message); }
    }
  };
  return (
    <div class="cols">
      <div class={`drop ${over ? 'over' : ''}`} id="files"
        onDragOver={e => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
        onDrop={e => { e.preventDefault(); setOver(false); upload(e.dataTransfer?.files || null); }}>
        <form class="bar" onSubmit={e => { e.preventDefault(); setDir(((e.target as HTMLFormElement).elements.namedItem('dir') as HTMLInputElement).value || '/'); }}>
          <label class="inline">Directory<input name="dir" value={dir} key={dir} /></label>
          <button type="submit">Go</button>
          <button type="button" onClick={() => setDir(parentPath(dir))} aria-label="Parent directory">Up</button>
          <label class="button">Upload…<input type="file" multiple class="sr" onChange={e => upload((e.target as HTMLInputElement).files)} /></label>
        </form>
        <p class="muted">Drop files here to upload them into {dir}.</p>
        {msg && <p role="status" id="files-msg">{msg}</p>}
        {list.error && <p class="error" role="alert">{list.error}</p>}
        <table class="grid small">
          <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
          <tbody>
            {(list.data?.entries || []).map(e => (
              <tr data-path={e.path}>
                <td>{e.isDir
                  ? <button class="link" onClick={() => setDir(e.path)}>{e.name}/</button>
                  : <button class="link" onClick={() => view(e.path)}>{e.name}</button>}</td>
                <td>{e.isDir ? '' : bytes(e.size)}</td>
                <td>{!e.isDir && <button onClick={() => download(e.path)} aria-label={`Download ${e.name}`}>Download</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div>
        {open && <><h2>{open.path}</h2><pre class="file" tabIndex={0}>{open.text}</pre></>}
      </div>
    </div>
  );
}
