// How the dashboard writes numbers and times: one place, so a table, a card and a chart's fallback
// table show a value identically (the tests compare them with the API's numbers).

/** `1234` → `1,234`; a missing count is 0. */
export const count = (value) => Number(value ?? 0).toLocaleString('en-US');

/** A ratio 0..1 → `87.5%`. */
export const percent = (ratio) => `${(ratio * 100).toFixed(1)}%`;

/** Days with one decimal, as the API rounds them. */
export const days = (value) => Number(value ?? 0).toFixed(1);

/** Whole days, for uptimes and waiting times. */
export const wholeDays = (value) => Number(value ?? 0).toFixed(0);

export const dateTime = (iso) => (iso ? new Date(iso).toLocaleString() : 'never');

export const date = (iso) => new Date(iso).toLocaleDateString();

/** Days from an ISO time until now. */
export const daysSince = (iso) => (Date.now() - Date.parse(iso)) / 86_400_000;

/** An instant in UTC, to the minute: `2026-12-22 21:00 UTC` (plans are compared across time zones). */
export const utc = (iso) => (iso ? `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—');

/** A span in hours or days: `36 h`, `4.5 d`. */
export const span = (milliseconds) => (milliseconds < 72 * 3_600_000 ? `${Math.round(milliseconds / 3_600_000)} h` : `${(milliseconds / 86_400_000).toFixed(1)} d`);

/** A step's or soak's length: `30 min` under an hour, then as `span` writes it. */
export const duration = (milliseconds) => (milliseconds < 3_600_000 ? `${Math.round(milliseconds / 60_000)} min` : span(milliseconds));
