// The search box: an advisory or CVE id opens that advisory, anything else searches host names.
import { html } from '../html.js';
import { advisoryHref, hostsHref } from '../router.js';

const ADVISORY_ID = /^(CVE-|GHSA-|[A-Z]+SA-|ALBA-|ALEA-|USN-|DSA-|DLA-)/i;

export function SearchForm() {
  const submit = (event) => {
    event.preventDefault();
    const text = new FormData(event.currentTarget).get('q').trim();
    location.hash = ADVISORY_ID.test(text) ? advisoryHref(text) : hostsHref({ q: text });
  };
  return html`<form class="search" role="search" onSubmit=${submit}>
    <input name="q" type="search" placeholder="Search hosts, or an advisory / CVE id" aria-label="Search" data-testid="search" />
  </form>`;
}
