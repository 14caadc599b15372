-- Upgrades the hosts' package managers offer. For an update no advisory dates, the fix became
-- available when the fleet first saw its candidate version: that moment is what days behind counts from.
CREATE TABLE update_first_seen (
  ecosystem      text NOT NULL,
  name           text NOT NULL,
  version        text NOT NULL,
  first_seen_at  timestamptz NOT NULL,
  PRIMARY KEY (ecosystem, name, version)
);

-- Each host's latest list, every entry with its `availableSince`; NULL when the host never reported
-- one (an imported SBOM, a mounted image), which is "unknown", not "up to date".
ALTER TABLE hosts
  ADD COLUMN available_updates jsonb,
  ADD COLUMN available_update_count integer;
