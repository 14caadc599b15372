// The frame of every page: a banner on top (the open incidents, when there are any), the header
// with the navigation, search and status line, then the page itself.
import { html } from '../html.js';
import { SearchForm } from './search-form.js';
import { StatusLine } from './status-line.js';

/**
 * @param {{ routes: Array<{ name: string, navigation?: { label: string, href: string } }>, currentRoute: string,
 *   status: object, banner?: unknown, children: unknown }} props
 */
export function Layout({ routes, currentRoute, status, banner, children }) {
  return html`
    ${banner ?? null}
    <header>
      <a class="brand" href="#/">fleetpatch</a>
      <nav aria-label="Pages" data-testid="navigation">
        ${routes
          .filter((route) => route.navigation)
          .map((route) => html`<a href=${route.navigation.href} aria-current=${route.name === currentRoute ? 'page' : undefined}>${route.navigation.label}</a>`)}
      </nav>
      <${SearchForm} />
      <${StatusLine} status=${status} />
    </header>
    <main data-testid="view">${children}</main>`;
}
