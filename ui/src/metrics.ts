// A parser of the Prometheus text exposition format, enough for the Activity dashboard.

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** parseMetrics reads every sample of a /metrics answer; comments and bad lines are skipped. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = parseValue(m[4]);
    if (Number.isNaN(value)) continue;
    out.push({ name: m[1], labels: m[3] ? parseLabels(m[3]) : {}, value });
  }
  return out;
}

function parseValue(s: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** parseLabels reads a="x",b="y \"q\"" (values may hold escaped quotes, commas, braces). */
export function parseLabels(s: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** sum adds the samples of name whose labels include want. */
export function sum(samples: Sample[], name: string, want: Record<string, string> = {}): number {
  return samples
    .filter(s => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/** byLabel sums name's samples grouped by one label. */
export function byLabel(samples: Sample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const k = s.labels[label] ?? '';
    out[k] = (out[k] || 0) + s.value;
  }
  return out;
}

/** histogramMean is the mean of a histogram (its _sum over its _count), optionally per label. */
export function histogramMean(samples: Sample[], name: string, want: Record<string, string> = {}): number {
  const count = sum(samples, name + '_count', want);
  return count ? sum(samples, name + '_sum', want) / count : 0;
}

/** quantile estimates the q-quantile of a histogram from its cumulative buckets. */
export function quantile(samples: Sample[], name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== name + '_bucket') continue;
    const le = parseValue(s.labels.le);
    buckets.set(le, (buckets.get(le) || 0) + s.value);
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (!total) return 0;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      const inBucket = count - prevCount;
      return inBucket ? prevLe + (le - prevLe) * ((rank - prevCount) / inBucket) : le;
    }
    prevLe = le; prevCount = count;
  }
  return prevLe;
}
