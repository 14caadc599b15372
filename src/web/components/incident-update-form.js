// The commander's status update: fleetpatch's draft in an editable box (fetched again on demand,
// so it reflects the scope now), posted as edited through the notification routes.
import { useContext, useEffect, useState } from 'preact/hooks';
import { apiGet, apiPost } from '../api-client.js';
import { html } from '../html.js';
import { RefreshContext } from '../use-api.js';

/** @param {{ incidentId: number }} props */
export function IncidentUpdateForm({ incidentId }) {
  const { refresh } = useContext(RefreshContext);
  const [markdown, setMarkdown] = useState(undefined);
  const [state, setState] = useState({ busy: false });

  const loadDraft = () => apiGet(`/api/v1/incidents/${incidentId}/draft`).then((draft) => setMarkdown(draft.markdown), (error) => setState({ busy: false, error: error.message }));
  // Loaded once per incident: a refresh tick must not overwrite what the commander is editing.
  useEffect(() => {
    void loadDraft();
  }, [incidentId]);

  const post = async (event) => {
    event.preventDefault();
    setState({ busy: true });
    try {
      const posted = await apiPost(`/api/v1/incidents/${incidentId}/updates`, { markdown });
      setState({ busy: false, posted: posted.update });
      refresh();
      await loadDraft();
    } catch (failure) {
      setState({ busy: false, error: failure.message });
    }
  };

  if (markdown === undefined) return state.error ? html`<p class="bad" data-testid="update-error">${state.error}</p>` : null;
  return html`<form class="incident-update-form" onSubmit=${post} data-testid="update-form">
    <textarea rows="14" aria-label="status update (Markdown)" data-testid="update-markdown" value=${markdown} onInput=${(event) => setMarkdown(event.currentTarget.value)}></textarea>
    <div class="operator-actions">
      <button type="submit" disabled=${state.busy || markdown.trim() === ''} data-testid="update-post">${state.busy ? '…' : 'post status update'}</button>
      <button type="button" onClick=${() => void loadDraft()} data-testid="update-redraft">draft again from the scope now</button>
      ${state.posted ? html`<span class="good" data-testid="update-posted">posted</span>` : null}
      ${state.error ? html`<span class="bad" data-testid="update-error">${state.error}</span>` : null}
    </div>
  </form>`;
}
