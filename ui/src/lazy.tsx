import { useEffect, useState } from 'preact/hooks';
import type { FunctionComponent } from 'preact';

/** lazy makes a component whose code is a separate chunk, loaded the first time it renders, so
 * that pages few people open do not weigh on the first load. */
export function lazy<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | null = null;
  return (props: P) => {
    const [C, setC] = useState<FunctionComponent<P> | null>(() => loaded);
    const [err, setErr] = useState('');
    useEffect(() => {
      if (!C) load().then(c => { loaded = c; setC(() => c); }).catch(e => setErr(String(e)));
    }, []);
    if (err) return <p class="error" role="alert">{err}</p>;
    return C ? <C {...props} /> : <p class="muted">Loading…</p>;
  };
}
