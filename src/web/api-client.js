// The dashboard's one way to the HTTP API: the viewer's token (taken from the URL once, then kept
// in local storage), bearer authentication, and the API's error shape turned into exceptions.
const TOKEN_KEY = 'fleetpatch-token';

/** No token, or the server refused it: the app asks for one and fetches again. */
export class SignInNeeded extends Error {}

/**
 * A `#/…?token=…` link (what `fleetpatch server` prints) signs in: the token is stored and taken
 * out of the address bar, so it does not stay in the history or a screenshot.
 */
export function adoptTokenFromUrl() {
  const [path, query] = location.hash.split('?');
  const parameters = new URLSearchParams(query ?? '');
  const fromUrl = parameters.get('token');
  if (!fromUrl) return;
  saveToken(fromUrl);
  parameters.delete('token');
  const rest = parameters.toString();
  history.replaceState(null, '', `${location.pathname}${location.search}${path}${rest ? `?${rest}` : ''}`);
}

export function saveToken(secret) {
  localStorage.setItem(TOKEN_KEY, secret);
}

/** GET an API path; resolves to the parsed JSON body or throws with the API's error message. */
export async function apiGet(path) {
  const secret = localStorage.getItem(TOKEN_KEY);
  if (!secret) throw new SignInNeeded('sign in with an API token');
  const response = await fetch(path, { headers: { authorization: `Bearer ${secret}` } });
  if (response.status === 401) {
    localStorage.removeItem(TOKEN_KEY);
    throw new SignInNeeded('the token was refused');
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
  return body;
}
