-- A pass reads the hosts that have news, not every host in flight. A job result or a check-in of
-- a host a rollout is working on bumps `news`; the pass that reads the host sets `seen` to the
-- value it read, so news that arrives during a pass is read by the next one.
ALTER TABLE rollout_hosts ADD COLUMN news integer NOT NULL DEFAULT 0, ADD COLUMN seen integer NOT NULL DEFAULT 0;
-- Hosts in flight when this runs are read once more: their results may be waiting.
UPDATE rollout_hosts SET news = 1
 WHERE state NOT IN ('pending', 'succeeded', 'succeeded-reboot-pending', 'failed', 'timed-out', 'reboot-stuck', 'rolled-back', 'skipped', 'no-agent');
CREATE INDEX rollout_hosts_news ON rollout_hosts (rollout_id, position) WHERE news <> seen;
-- The states a pass reads on their own (notified, monitoring, rebooting…) and the pending hosts in admission order.
CREATE INDEX rollout_hosts_state ON rollout_hosts (rollout_id, state, position);
CREATE INDEX rollout_hosts_deadline ON rollout_hosts (rollout_id, deadline) WHERE deadline IS NOT NULL;
