// The dashboard's one way to the HTTP API: the signed-in token (a viewer's reads, an operator's also acts) (taken from the URL once, then kept
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
export function apiGet(path) {
  return apiRequest('GET', path);
}

/** POST a JSON body (an operator's action); resolves to the answer or throws with the API's error message. */
export function apiPost(path, body) {
  return apiRequest('POST', path, body);
}

async function apiRequest(method, path, body) {
  const secret = localStorage.getItem(TOKEN_KEY);
  if (!secret) throw new SignInNeeded('sign in with an API token');
  const headers = { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const response = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (response.status === 401) {
    localStorage.removeItem(TOKEN_KEY);
    throw new SignInNeeded('the token was refused');
  }
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error?.message ?? `HTTP ${response.status}`);
  return answer;
}
