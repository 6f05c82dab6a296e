// Formatting of times, sizes and durations for the tables.

/** age says how long ago t was, in the largest whole unit: 45s, 12m, 3h, 2d. */
export function age(t: string | undefined, now: number = Date.now()): string {
  if (!t) return '';
  const s = Math.max(0, Math.floor((now - Date.parse(t)) / 1000));
  return span(s);
}

/** when writes the time t in the browser's time zone to the second ("2026-12-03 16:48:24"). */
export function when(t: string | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  if (isNaN(d.getTime())) return t;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** until says how long until t (expiry), or "expired". */
export function until(t: string | undefined, now: number = Date.now()): string {
  if (!t) return '';
  const s = Math.floor((Date.parse(t) - now) / 1000);
  return s <= 0 ? 'expired' : 'in ' + span(s);
}

export function span(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** bytes writes a size in binary units: 512 B, 1.5 KiB, 12 MiB. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return i === 0 ? `${n} B` : `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

/** cpu writes millicores as cores: 0.25, 1.5. */
export function cpu(milli: number): string {
  return (milli / 1000).toFixed(milli < 100 ? 3 : 2).replace(/\.?0+$/, '') || '0';
}

/** splitList turns "a, b\nc" into ["a","b","c"]. */
export function splitList(s: string): string[] {
  return s.split(/[\s,]+/).map(x => x.trim()).filter(Boolean);
}

/** matches reports whether a sandbox row matches a free-text filter ("state:running py"). */
export function matches(fields: Record<string, string | undefined>, filter: string): boolean {
  for (const word of filter.toLowerCase().split(/\s+/).filter(Boolean)) {
    const [k, v] = word.includes(':') ? word.split(':', 2) : ['', word];
    const hit = k
      ? (fields[k] || '').toLowerCase().includes(v)
      : Object.values(fields).some(f => (f || '').toLowerCase().includes(v));
    if (!hit) return false;
  }
  return true;
}
