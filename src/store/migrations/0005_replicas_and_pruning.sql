-- Several processes on one database: the advisory generation a process compares its in-memory
-- index with, and the timestamps that let unreferenced package rows be pruned safely while other
-- processes still cache them.

-- The import that last wrote each advisory: an advisory import writes generation max + 1 (imports
-- are serialised by an advisory lock), so a process that loaded up to generation G reads only the
-- rows above G to catch up.
ALTER TABLE advisories ADD COLUMN generation bigint NOT NULL DEFAULT 0;
CREATE INDEX advisories_generation ON advisories (generation);

-- When a check-in last confirmed the row exists (inserted it or found it). A process trusts a
-- cached key only briefly after confirming it; rows unconfirmed for much longer than that and
-- referenced by nothing are pruned.
ALTER TABLE package_versions ADD COLUMN last_used_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE package_sets ADD COLUMN last_used_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX package_versions_last_used ON package_versions (last_used_at);
CREATE INDEX package_sets_last_used ON package_sets (last_used_at);

-- What pruning asks before deleting: does a host still point at this set, does a finding (open or
-- historical) still name this version.
CREATE INDEX hosts_package_set ON hosts (package_set_key);
CREATE INDEX findings_package ON findings (package_key);
