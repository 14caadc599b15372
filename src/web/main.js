// The dashboard's entry point: takes a token from a sign-in link, then renders the app into the page.
import { render } from 'preact';
import { adoptTokenFromUrl } from './api-client.js';
import { App } from './components/app.js';
import { html } from './html.js';

adoptTokenFromUrl();
render(html`<${App} />`, document.getElementById('app'));
