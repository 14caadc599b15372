// The sign-in dialog, shown modally while the API has no token it accepts.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';

/** @param {{ open: boolean, onSignIn: (secret: string) => void }} props */
export function LoginDialog({ open, onSignIn }) {
  const dialog = useRef(null);
  useEffect(() => {
    if (open && !dialog.current.open) dialog.current.showModal();
    if (!open && dialog.current.open) dialog.current.close();
  }, [open]);
  const submit = (event) => {
    event.preventDefault();
    onSignIn(new FormData(event.currentTarget).get('token').trim());
  };
  return html`<dialog ref=${dialog} data-testid="login">
    <form onSubmit=${submit}>
      <h2>Sign in</h2>
      <p>Paste an API token (viewer role is enough to read; acting on rollouts needs an operator).</p>
      <input name="token" type="password" autocomplete="off" required aria-label="API token" />
      <button type="submit">Open the dashboard</button>
    </form>
  </dialog>`;
}
