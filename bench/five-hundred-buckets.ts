/** The 500-bucket policy bench:plan checks and reloads. */
/** A generated policy of 500 buckets (each revision gives the buckets other owners). */
export function fiveHundredBuckets(revision = 0): string {
  const buckets = Array.from({ length: 500 }, (_, index) => `  - name: bucket-${index}
    owner: team-${(index + revision) % 40}
    match: { labels: { service: svc-${index} }, expressions: [{ key: env, operator: in, values: [prod, staging] }] }
    strategy: { kind: in-place }
    windows: [${index % 2 === 0 ? 'nightly' : 'weekly'}]
    waves: [1, "10%", "100%"]
    maxInFlight: "10%"
    errorBudget: 1
    reboot: { policy: if-required, timeout: 5m }
    gates:
      - { name: healthy, check: { kind: http, url: "https://svc-${index}.internal/healthz" } }`).join('\n');
  return `version: 1
windows:
  nightly: { timeZone: Europe/Berlin, every: day, start: "02:00", duration: 2h, admissionCutoff: 15m }
  weekly: { timeZone: America/New_York, every: week, days: [saturday], start: "06:00", duration: 4h }
buckets:
${buckets}
freezes:
  - { name: holidays, from: "12-24", until: "12-26", allowEmergency: true }
`;
}

