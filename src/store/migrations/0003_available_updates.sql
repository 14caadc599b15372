-- Upgrades the hosts' package managers offer. For an update no advisory dates, the fix became
-- available when the fleet first saw its candidate version: that moment is what days behind counts from.
CREATE TABLE update_first_seen (
  ecosystem      text NOT NULL,
  name           text NOT NULL,
  version        text NOT NULL,
  first_seen_at  timestamptz NOT NULL,
  PRIMARY KEY (ecosystem, name, version)
);

-- Each host's latest list, every entry with its `availableSince`. Kept out of `hosts`, whose rows
-- every fleet summary scans. No row (and a NULL count) means the host never reported a list (an
-- imported SBOM, a mounted image): "unknown", not "up to date".
CREATE TABLE host_available_updates (
  host_key  integer PRIMARY KEY REFERENCES hosts (key) ON DELETE CASCADE,
  updates   jsonb NOT NULL
);
-- The count stays on the host row, so fleet summaries need no join.
ALTER TABLE hosts ADD COLUMN available_update_count integer;
