-- Inventory, advisories and findings: the state detection reads and writes.

-- One row per OSV record. `document` is the normalised advisory the matcher indexes in memory.
CREATE TABLE advisories (
  key          serial PRIMARY KEY,
  id           text NOT NULL UNIQUE,
  modified     timestamptz NOT NULL,
  published    timestamptz,
  withdrawn    timestamptz,
  aliases      text[] NOT NULL DEFAULT '{}',
  -- Related ids; for distribution errata, the CVEs the update fixes.
  related      text[] NOT NULL DEFAULT '{}',
  summary      text,
  severity     text NOT NULL,
  cvss_score   real,
  source       text NOT NULL,
  document     jsonb NOT NULL,
  imported_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX advisories_aliases ON advisories USING gin (aliases);
CREATE INDEX advisories_related ON advisories USING gin (related);

-- Known-exploited and exploit-probability signals, keyed by CVE id.
CREATE TABLE kev_entries (
  cve_id          text PRIMARY KEY,
  date_added      date NOT NULL,
  due_date        date,
  ransomware_use  boolean NOT NULL DEFAULT false,
  vendor_project  text,
  product         text
);
CREATE TABLE epss_scores (
  cve_id      text PRIMARY KEY,
  epss        real NOT NULL,
  percentile  real NOT NULL,
  score_date  date
);

-- Per-location feed state (ETag, Last-Modified, last sync) so syncs import only what changed.
CREATE TABLE feed_state (
  location   text PRIMARY KEY,
  state      jsonb NOT NULL DEFAULT '{}',
  synced_at  timestamptz NOT NULL DEFAULT now()
);

-- Distinct package versions: the unit detection evaluates once for the whole fleet.
CREATE TABLE package_versions (
  key             serial PRIMARY KEY,
  ecosystem       text NOT NULL,
  name            text NOT NULL,
  version         text NOT NULL,
  arch            text NOT NULL DEFAULT '',
  source_name     text NOT NULL DEFAULT '',
  source_version  text NOT NULL DEFAULT '',
  epoch_known     boolean NOT NULL DEFAULT true,
  UNIQUE (ecosystem, name, version, arch, source_name, source_version, epoch_known)
);

-- Detection results per distinct version: which advisories affect it and what fixes it.
CREATE TABLE package_version_matches (
  -- package_versions rows are never deleted, so no foreign key is checked on these bulk writes.
  package_key    integer NOT NULL,
  advisory_key   integer NOT NULL REFERENCES advisories (key) ON DELETE CASCADE,
  fixed_version  text,
  PRIMARY KEY (advisory_key, package_key)
);
CREATE INDEX package_version_matches_package ON package_version_matches (package_key);

-- Content-addressed package lists: hosts built from one baseline share a row.
CREATE TABLE package_sets (
  key           serial PRIMARY KEY,
  digest        text NOT NULL UNIQUE,
  package_keys  integer[] NOT NULL
);
-- No GIN index on package_keys: every changed inventory adds a set, and GIN maintenance (its
-- pending-list flushes) stalled check-ins; the rare "who runs these versions" scan reads the table.

CREATE TABLE hosts (
  key                  serial PRIMARY KEY,
  name                 text NOT NULL UNIQUE,
  os_id                text,
  os_version           text,
  os_ecosystem         text,
  os_pretty_name       text,
  arch                 text,
  running_kernel       text,
  reboot_required      boolean NOT NULL DEFAULT false,
  boot_time            timestamptz,
  labels               jsonb NOT NULL DEFAULT '{}',
  package_set_key      integer REFERENCES package_sets (key),
  inventory_source     text,
  inventory_updated_at timestamptz,
  -- Digest of the findings last written for this host: an evaluation that yields the same digest
  -- has nothing to write.
  findings_digest      text,
  last_seen_at         timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per (host, advisory, package name): kept after the fix (state `fixed`, resolved_at set)
-- so time-to-patch can be measured; reopened if the package regresses.
-- No foreign keys: findings are written only by the merge in src/store/finding-store.ts, with keys
-- it has just read or written in the same transaction, and checking three keys per row would cost
-- more than the whole first import of a large fleet. Deleting a host deletes its findings explicitly.
CREATE TABLE findings (
  host_key       integer NOT NULL,
  advisory_key   integer NOT NULL,
  package_name   text NOT NULL,
  package_key    integer NOT NULL,
  fixed_version  text,
  state          text NOT NULL CHECK (state IN ('vulnerable', 'pending-reboot', 'fixed', 'not-applicable')),
  state_reason   text,
  first_seen_at  timestamptz NOT NULL,
  resolved_at    timestamptz,
  PRIMARY KEY (host_key, advisory_key, package_name)
);
-- "Who is affected by advisory X" reads only this index (index-only scan).
CREATE INDEX findings_by_advisory ON findings (advisory_key, state, host_key);

-- Accepted risks: a person's decision, with a reason and an expiry; applied when findings are read.
CREATE TABLE risk_acceptances (
  id            serial PRIMARY KEY,
  advisory_id   text NOT NULL,
  host_name     text,
  package_name  text,
  reason        text NOT NULL,
  accepted_by   text NOT NULL,
  expires_at    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX risk_acceptances_advisory ON risk_acceptances (advisory_id);

-- Every import run, for progress reports and the audit trail.
CREATE TABLE import_runs (
  id           serial PRIMARY KEY,
  kind         text NOT NULL,
  source       text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  stats        jsonb NOT NULL DEFAULT '{}'
);
