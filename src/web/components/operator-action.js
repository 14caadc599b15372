// An operator's action on a rollout or one of its hosts: the button opens a small form that asks
// for the reason (the audit log keeps it), then posts it with the signed-in token and refreshes
// the page. A refusal (the wrong state, a viewer's token) is shown beside the button.
import { useContext, useState } from 'preact/hooks';
import { apiPost } from '../api-client.js';
import { html } from '../html.js';
import { RefreshContext } from '../use-api.js';

/**
 * @param {{ label: string, path: string, testid: string, danger?: boolean, prompt?: string, body?: object, bodyField?: string }} props `path` is
 *   the API path to POST; `prompt` asks for the reason (default `why <label>?`; a checklist step asks what was done); `body` is sent
 *   with it, the answer under `bodyField` (default `reason`)
 */
export function OperatorAction({ label, path, testid, danger = false, prompt = `why ${label}?`, body = {}, bodyField = 'reason' }) {
  const { refresh } = useContext(RefreshContext);
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(undefined);

  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await apiPost(path, { ...body, [bodyField]: String(new FormData(event.currentTarget).get('reason')).trim() });
      setAsking(false);
      setError(undefined);
      refresh();
    } catch (failure) {
      setError(failure.message);
    } finally {
      setBusy(false);
    }
  };

  return html`<span class="operator-action" data-testid=${testid}>
    ${asking
      ? html`<form onSubmit=${submit} data-testid=${`${testid}-form`}>
          <input name="reason" required maxlength="512" pattern=".*\\S.*" placeholder=${prompt} aria-label=${`reason to ${label}`} data-testid=${`${testid}-reason`} />
          <button type="submit" class=${danger ? 'danger' : ''} disabled=${busy} data-testid=${`${testid}-confirm`}>${busy ? '…' : label}</button>
          <button type="button" onClick=${() => { setAsking(false); setError(undefined); }}>cancel</button>
        </form>`
      : html`<button type="button" class=${danger ? 'danger' : ''} onClick=${() => setAsking(true)} data-testid=${`${testid}-button`}>${label}</button>`}
    ${error ? html`<span class="bad" data-testid=${`${testid}-error`}>${error}</span>` : null}
  </span>`;
}
