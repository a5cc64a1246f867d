// Client-side routing under PREFIX with the History API; the server answers index.html for every route.
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren, JSX } from 'preact';
import { PREFIX } from './api.js';

export interface Location {
  /** Path without PREFIX, e.g. '/query'. */
  path: string;
  search: URLSearchParams;
}

function current(): Location {
  let path = window.location.pathname;
  if (PREFIX !== '' && path.startsWith(PREFIX)) path = path.slice(PREFIX.length);
  return { path: path === '' ? '/' : path, search: new URLSearchParams(window.location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((f) => f()));

/** Goes to a path under PREFIX (with an optional query string); replace keeps the history entry. */
export function navigate(pathAndQuery: string, replace = false): void {
  const url = `${PREFIX}${pathAndQuery}`;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((f) => f());
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const f = (): void => setLoc(current());
    listeners.add(f);
    return () => void listeners.delete(f);
  }, []);
  return loc;
}

/** An anchor that navigates in the app on a plain left click and stays a real link otherwise. */
export function Link(props: { href: string; class?: string; children: ComponentChildren; title?: string }): JSX.Element {
  const onClick = (e: MouseEvent): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={`${PREFIX}${props.href}`} class={props.class} title={props.title} onClick={onClick}>
      {props.children}
    </a>
  );
}
