// The app: picks the page for the current hash route inside the layout, refreshes the data in
// place every 30 seconds (`?refresh=SECONDS` in the page URL changes it, for wall screens and
// tests), keeps the status line, and asks for a token when the API wants one.
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { saveToken, SignInNeeded } from '../api-client.js';
import { html } from '../html.js';
import { matchRoute, useHashLocation } from '../router.js';
import { FALLBACK_ROUTE, ROUTES } from '../routes.js';
import { RefreshContext } from '../use-api.js';
import { IncidentBanner } from './incident-banner.js';
import { Layout } from './layout.js';
import { LoginDialog } from './login-dialog.js';

const REFRESH_MS = Number(new URLSearchParams(location.search).get('refresh') ?? 30) * 1000;

export function App() {
  const { path, query } = useHashLocation();
  const [tick, setTick] = useState(0);
  const [status, setStatus] = useState({ state: 'loading' });
  const [signInNeeded, setSignInNeeded] = useState(false);

  useEffect(() => {
    const timer = setInterval(() => setTick((previous) => previous + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const report = useCallback((error) => {
    if (error instanceof SignInNeeded) setSignInNeeded(true);
    setStatus(error ? { state: 'error', message: error.message } : { state: 'updated', at: new Date() });
  }, []);
  const refreshNow = useCallback(() => setTick((previous) => previous + 1), []);
  const refresh = useMemo(() => ({ tick, report, refresh: refreshNow }), [tick, report, refreshNow]);

  const signIn = (secret) => {
    saveToken(secret);
    setSignInNeeded(false);
    refreshNow();
  };

  const { route, parameter } = matchRoute(ROUTES, path) ?? { route: FALLBACK_ROUTE };
  const Page = route.page;
  return html`<${RefreshContext.Provider} value=${refresh}>
    <${Layout} routes=${ROUTES} currentRoute=${route.name} status=${status} banner=${html`<${IncidentBanner} />`}>
      <${Page} parameter=${parameter} query=${query} />
    <//>
    <${LoginDialog} open=${signInNeeded} onSignIn=${signIn} />
  <//>`;
}
