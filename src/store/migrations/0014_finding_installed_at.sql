-- When a finding's fix was installed: the check-in that first showed it on disk (pending-reboot),
-- or the one that resolved it without a reboot (then equal to resolved_at). resolved_at is when it
-- went live, so time to patch is measured to both. Cleared when the finding is vulnerable again.
-- Nullable without a default: adding it rewrites no row.
ALTER TABLE findings ADD COLUMN installed_at timestamptz;
