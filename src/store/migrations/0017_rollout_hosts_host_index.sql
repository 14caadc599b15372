-- Lookups of a host's rollout rows use rollout_hosts_host_state_since (host first). The index on
-- the host alone only cost every rollout-host update one more index entry: the pass's
-- transitions and each job result's or check-in's news are updates that cannot be HOT.
DROP INDEX rollout_hosts_host;
