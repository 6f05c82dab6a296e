import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal as XTerm } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import '@xterm/xterm/css/xterm.css';
import { session, wsProtocols, wsURL } from '../api';
import { backoff, fromBase64, toBase64 } from '../ws';

const SHELL = ['sh', '-lc', 'if command -v bash >/dev/null 2>&1; then exec bash -il; else exec sh -i; fi'];
const MAX_RETRIES = 6;

/** Terminal is an interactive shell in the sandbox over the attach WebSocket. A dropped
 * connection is retried with backoff (a new shell: the old one ended with its socket). */
export function Terminal(props: { name: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('connecting');
  const [gen, setGen] = useState(0);
  const [connects, setConnects] = useState(0); // connections opened: a reconnect shows as 2, 3, ...
  useEffect(() => {
    const term = new XTerm({ cursorBlink: true, fontSize: 14, convertEol: false, screenReaderMode: false,
      theme: { background: '#111418', foreground: '#e6e6e6' } });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(box.current!);
    fit.fit();
    const enc = new TextEncoder();
    let ws: WebSocket | undefined;
    let retries = 0, closed = false, exited = false;
    let timer: ReturnType<typeof setTimeout>;
    const send = (m: unknown) => { if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); };
    const connect = () => {
      setStatus(retries ? `reconnecting (attempt ${retries})` : 'connecting');
      ws = new WebSocket(wsURL(`/sandboxes/${encodeURIComponent(props.name)}/exec/attach`), wsProtocols(session.get()));
      ws.onopen = () => {
        retries = 0;
        setStatus('connected');
        setConnects(n => n + 1);
        send({ command: SHELL, tty: true, rows: term.rows, cols: term.cols });
        term.focus();
      };
      ws.onmessage = ev => {
        const m = JSON.parse(ev.data as string);
        if (m.type === 'output') term.write(fromBase64(m.data));
        else if (m.type === 'exit') { exited = true; setStatus(`exited (${m.exit_code})`); term.write(`\r\n[process exited with ${m.exit_code}]\r\n`); }
        else if (m.type === 'error') term.write(`\r\n[error: ${m.message}]\r\n`);
      };
      ws.onclose = () => {
        if (closed || exited) return;
        if (retries >= MAX_RETRIES) { setStatus('disconnected'); return; }
        setStatus('connection lost: reconnecting');
        timer = setTimeout(connect, backoff(retries++));
      };
    };
    const onData = term.onData(d => send({ type: 'stdin', data: toBase64(enc.encode(d)) }));
    const onResize = term.onResize(({ rows, cols }) => send({ type: 'resize', rows, cols }));
    const ro = new ResizeObserver(() => fit.fit());
    ro.observe(box.current!);
    connect();
    return () => {
      closed = true;
      clearTimeout(timer);
      ro.disconnect(); onData.dispose(); onResize.dispose();
      ws?.close();
      term.dispose();
    };
  }, [props.name, gen]);
  return (
    <div>
      <p class="bar"><span role="status" id="term-status" data-connects={connects}>Terminal: {status}</span>
        <button onClick={() => setGen(g => g + 1)}>New shell</button></p>
      <div class="term" ref={box} aria-label="Terminal" />
    </div>
  );
}
