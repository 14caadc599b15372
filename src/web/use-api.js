// Data for a component: fetched when its API path changes and again on every refresh tick. The last
// answer stays on screen while the next one loads, so refreshing in place never blanks a page.
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { apiGet } from './api-client.js';

/**
 * Given by the app: `tick` grows on every refresh; `report(error)` is told of each answer (null)
 * or failure, for the status line and the sign-in dialog; `refresh()` fetches everything again
 * now (after an operator's action changed what the page shows).
 */
export const RefreshContext = createContext({ tick: 0, report: () => {}, refresh: () => {} });

/** The body of GET `path`, or undefined until the first answer for this path arrives. */
export function useApi(path) {
  return useApiAnswer(path).body;
}

/**
 * `{ body, error }` of GET `path`: the body as useApi gives it, and the last failure for this path
 * (cleared by the next answer), for pages that explain an error in place (the plan without a policy).
 */
export function useApiAnswer(path) {
  const { tick, report } = useContext(RefreshContext);
  const [answer, setAnswer] = useState({ path: undefined, body: undefined, error: undefined });
  useEffect(() => {
    let current = true;
    apiGet(path).then(
      (body) => {
        if (!current) return;
        setAnswer({ path, body, error: undefined });
        report(null);
      },
      (error) => {
        if (!current) return;
        setAnswer((previous) => ({ path, body: previous.path === path ? previous.body : undefined, error }));
        report(error);
      },
    );
    return () => {
      current = false;
    };
  }, [path, tick]);
  // Another path's answer is never shown for this one (host A's findings on host B's page).
  return answer.path === path ? answer : { body: undefined, error: undefined };
}
