import { useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { byLabel, histogramMean, parseMetrics, quantile, Sample, sum } from '../metrics';
import { usePoll } from '../hooks';
import { Bars, Line } from '../charts';

const HISTORY = 60; // samples kept for the line charts (5 s apart: 5 minutes)

/** Activity is the audit log with filters and a dashboard of /metrics. */
export function Activity() {
  return (<><Dashboard /><Events /></>);
}

function Dashboard() {
  const hist = useRef<{ t: number; req: number; reqSum: number; exec: number }[]>([]);
  const m = usePoll(async () => {
    const s = parseMetrics(await api.metrics());
    hist.current = [...hist.current, {
      t: Date.now(), req: sum(s, 'paddock_http_request_duration_seconds_count'),
      reqSum: sum(s, 'paddock_http_request_duration_seconds_sum'), exec: sum(s, 'paddock_exec_duration_seconds_count'),
    }].slice(-HISTORY);
    return s;
  }, 5000);
  const s: Sample[] = m.data || [];
  const h = hist.current;
  const rate = h.slice(1).map((p, i) => (p.req - h[i].req) / Math.max(0.001, (p.t - h[i].t) / 1000));
  const latency = h.slice(1).map((p, i) => {
    const n = p.req - h[i].req;
    return n > 0 ? ((p.reqSum - h[i].reqSum) / n) * 1000 : 0;
  });
  const pools: Record<string, number> = {};
  for (const x of s.filter(x => x.name === 'paddock_pool_ready')) pools[x.labels.template || x.labels.image || '?'] = x.value;
  return (
    <section aria-labelledby="dash-h">
      <h1 id="dash-h">Activity</h1>
      {m.error && <p class="error" role="alert">{m.error}</p>}
      <div class="charts" id="dashboard">
        <Bars title="Sandboxes by state" data={byLabel(s, 'paddock_sandboxes', 'state')} />
        <Bars title="Warm pool: ready sandboxes" data={pools} />
        <Line title="Requests per second" points={rate} />
        <Line title="Mean request latency" points={latency} unit=" ms" />
        <Bars title="Request latency (all routes)" unit=" ms" data={{
          p50: quantile(s, 'paddock_http_request_duration_seconds', 0.5) * 1000,
          p95: quantile(s, 'paddock_http_request_duration_seconds', 0.95) * 1000,
          p99: quantile(s, 'paddock_http_request_duration_seconds', 0.99) * 1000,
        }} />
        <Bars title="Exec durations" unit=" ms" data={{
          mean: histogramMean(s, 'paddock_exec_duration_seconds') * 1000,
          p95: quantile(s, 'paddock_exec_duration_seconds', 0.95) * 1000,
        }} />
      </div>
    </section>
  );
}

function Events() {
  const [q, setQ] = useState({ sandbox: '', type: '', since: '' });
  const [applied, setApplied] = useState(q);
  const ev = usePoll(() => {
    const p = new URLSearchParams({ limit: '200' });
    if (applied.sandbox) p.set('sandbox', applied.sandbox);
    if (applied.type) p.set('type', applied.type);
    if (applied.since) p.set('since', new Date(applied.since).toISOString());
    return api.events(p);
  }, 5000, [applied]);
  const field = (k: keyof typeof q, label: string, type: 'text' | 'datetime-local' = 'text') => (
    <label class="inline">{label}<input type={type as never} value={q[k]} onInput={e => setQ({ ...q, [k]: (e.target as HTMLInputElement).value })} /></label>
  );
  return (
    <section aria-labelledby="ev-h">
      <h2 id="ev-h">Audit events</h2>
      <form class="bar" onSubmit={e => { e.preventDefault(); setApplied(q); }}>
        {field('sandbox', 'Sandbox')}{field('type', 'Type')}{field('since', 'Since', 'datetime-local')}
        <button type="submit">Filter</button>
      </form>
      {ev.error && <p class="error" role="alert">{ev.error}</p>}
      <table class="grid small" id="events">
        <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Sandbox</th><th scope="col">Actor</th><th scope="col">Details</th></tr></thead>
        <tbody>{(ev.data || []).slice().reverse().map(e => (
          <tr><td><time dateTime={e.timestamp}>{new Date(e.timestamp).toLocaleString()}</time></td><td>{e.event}</td>
            <td>{e.sandbox}</td><td>{e.user_email || e.actor}</td><td class="mono">{e.details ? JSON.stringify(e.details) : ''}</td></tr>
        ))}</tbody>
      </table>
    </section>
  );
}
