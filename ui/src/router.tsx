import { useEffect, useState, type MouseEvent, type ReactNode } from 'react';

/** The page a path shows. */
export type Route =
  | { page: 'runs' }
  | { page: 'run'; runId: string }
  | { page: 'approvals' }
  | { page: 'costs' }
  | { page: 'workers' }
  | { page: 'audit' }
  | { page: 'missing'; path: string };

export function parseRoute(path: string): Route {
  if (path === '/' || path === '/runs') return { page: 'runs' };
  const run = /^\/runs\/([^/]+)\/?$/.exec(path);
  if (run) return { page: 'run', runId: decodeURIComponent(run[1]!) };
  if (path === '/approvals') return { page: 'approvals' };
  if (path === '/costs') return { page: 'costs' };
  if (path === '/workers') return { page: 'workers' };
  if (path === '/audit') return { page: 'audit' };
  return { page: 'missing', path };
}

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  if (to === window.location.pathname + window.location.search) return;
  history.pushState(null, '', to);
  for (const listener of listeners) listener();
}

/** Changes the address's query without a new history entry (a selection, a tab): reload keeps it. */
export function replaceSearch(params: URLSearchParams): void {
  const search = params.toString();
  history.replaceState(null, '', `${window.location.pathname}${search ? `?${search}` : ''}`);
  for (const listener of listeners) listener();
}

/** The current path and query, updated on navigation and back/forward. */
export function useLocation(): { path: string; search: string } {
  const read = () => ({ path: window.location.pathname, search: window.location.search });
  const [location, setLocation] = useState(read);
  useEffect(() => {
    const update = () => setLocation(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
}

export function Link(props: { to: string; children: ReactNode; className?: string; title?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={onClick} className={props.className} title={props.title}>
      {props.children}
    </a>
  );
}
