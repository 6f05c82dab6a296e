// Small SVG charts for the dashboard: no chart library.

export function Bars(props: { title: string; data: Record<string, number>; unit?: string }) {
  const entries = Object.entries(props.data);
  const max = Math.max(1, ...entries.map(e => e[1]));
  const w = 340, row = 22;
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <svg width={w} height={Math.max(row, entries.length * row)} role="img" aria-label={props.title}>
        {entries.map(([k, v], i) => (
          <g transform={`translate(0,${i * row})`}>
            <text x="0" y="15" class="lbl">{k || '(none)'}</text>
            <rect x="120" y="4" height="14" width={Math.max(1, (v / max) * 130)} class="bar" />
            <text x={126 + (v / max) * 130} y="15" class="val">{fmt(v)}{props.unit || ''}</text>
          </g>
        ))}
      </svg>
      {!entries.length && <p class="muted">no data</p>}
    </figure>
  );
}

export function Line(props: { title: string; points: number[]; unit?: string }) {
  const w = 320, h = 90, pts = props.points;
  const max = Math.max(1e-9, ...pts);
  const path = pts.map((v, i) => `${i ? 'L' : 'M'}${(i / Math.max(1, pts.length - 1)) * (w - 10) + 5},${h - 5 - (v / max) * (h - 20)}`).join(' ');
  const last = pts.length ? pts[pts.length - 1] : 0;
  return (
    <figure class="chart">
      <figcaption>{props.title}: {fmt(last)}{props.unit || ''}</figcaption>
      <svg width={w} height={h} role="img" aria-label={`${props.title}: ${fmt(last)}${props.unit || ''}`}>
        <rect x="0" y="0" width={w} height={h} class="frame" />
        {pts.length > 1 && <path d={path} class="line" />}
        {pts.length === 1 && <circle cx={w / 2} cy={h - 5 - (pts[0] / max) * (h - 20)} r="3" class="dot" />}
        <text x="5" y="12" class="val">max {fmt(max)}</text>
      </svg>
    </figure>
  );
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100 || Number.isInteger(v)) return String(Math.round(v));
  return v.toPrecision(3);
}
