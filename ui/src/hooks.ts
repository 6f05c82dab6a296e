import { useEffect, useRef, useState } from 'preact/hooks';

/** usePoll calls load now and every ms milliseconds while the component lives. */
export function usePoll<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const tick = useRef(0);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    const run = async () => {
      const my = ++tick.current;
      try {
        const d = await load();
        if (live && my === tick.current) { setData(d); setError(''); }
      } catch (e) {
        if (live) setError((e as Error).message);
      }
      if (live && ms > 0) timer = setTimeout(run, ms);
    };
    run();
    return () => { live = false; clearTimeout(timer); };
  }, [...deps, n]);
  return { data, error, reload: () => setN(x => x + 1) };
}
