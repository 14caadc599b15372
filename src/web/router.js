// A tiny hash router: `#/path?query` is the whole page state, so links, the back button and a
// shared URL just work and the server serves one HTML page. The route table lives in routes.js.
import { useEffect, useState } from 'preact/hooks';

/** `#/hosts?team=dba` → { path: '/hosts', query: URLSearchParams('team=dba') }. */
export function parseHash(hash) {
  const [path, query] = hash.replace(/^#/, '').split('?');
  return { path: path || '/', query: new URLSearchParams(query ?? '') };
}

/** The first route whose pattern matches the path, with its decoded path parameter, if any. */
export function matchRoute(routes, path) {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match) return { route, parameter: match[1] === undefined ? undefined : decodeURIComponent(match[1]) };
  }
  return undefined;
}

/** The current location, re-rendering the caller whenever the hash changes. */
export function useHashLocation() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseHash(hash);
}

export const hostHref = (name) => `#/host/${encodeURIComponent(name)}`;
export const advisoryHref = (id) => `#/advisory/${encodeURIComponent(id)}`;
export const rolloutHref = (id) => `#/rollouts/${encodeURIComponent(id)}`;
export const incidentHref = (id) => `#/incidents/${encodeURIComponent(id)}`;
/** The rollout list filtered by `{ state, bucket }` (empty values left out). */
export const rolloutsHref = (filters = {}) => listHref('#/rollouts', filters);
/** The host list filtered by `{ bucket, team, q, stale, page }` (empty values left out). */
export const hostsHref = (filters = {}) => listHref('#/hosts', filters);

function listHref(base, filters) {
  const query = new URLSearchParams(Object.entries(filters).filter(([, value]) => value !== undefined && value !== '')).toString();
  return `${base}${query ? `?${query}` : ''}`;
}
