import { useEffect, useState } from 'preact/hooks';

export const BASE = '/ui/';

/** navigate moves to a client route (under /ui/) without a page load. */
export function navigate(to: string) {
  history.pushState(null, '', BASE + to.replace(/^\//, ''));
  dispatchEvent(new PopStateEvent('popstate'));
}

/** Link is an anchor that routes on the client. */
export function Link(props: { to: string; class?: string; children: unknown; 'aria-current'?: string }) {
  return (
    <a href={BASE + props.to.replace(/^\//, '')} class={props.class} aria-current={props['aria-current'] as never}
      onClick={e => { if (!e.metaKey && !e.ctrlKey) { e.preventDefault(); navigate(props.to); } }}>
      {props.children as never}
    </a>
  );
}

/** usePath is the current path below BASE. */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path.startsWith(BASE) ? path.slice(BASE.length) : '';
}
