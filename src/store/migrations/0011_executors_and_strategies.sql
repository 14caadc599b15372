-- Jobs run where the server runs (SSH, command hooks, the Kubernetes API) as well as by agents.
-- `executor` says who takes a job: agents fetch only theirs; a server's job worker leases the
-- others (`claimed_by` until `claimed_until`, renewed while it runs, so a dead worker's job is
-- taken again after the lease), and `started_at` records the first start before anything acts:
-- a job found started without a result was cut short, which only resumable steps may repeat.
ALTER TABLE rollout_jobs
  ADD COLUMN executor text NOT NULL DEFAULT 'agent',
  ADD COLUMN claimed_by text,
  ADD COLUMN claimed_until timestamptz,
  ADD COLUMN started_at timestamptz;
CREATE INDEX rollout_jobs_server_side ON rollout_jobs (dispatched_at) WHERE reported_at IS NULL AND executor <> 'agent';

-- What a strategy remembers about a host between steps (a rolling reboot: that fleetpatch cordoned
-- the node; a replacement: the new host's name; a manual window: the checklist confirmed so far),
-- and about the rollout (a manual window: whether the reminder went out).
ALTER TABLE rollout_hosts ADD COLUMN memo jsonb NOT NULL DEFAULT '{}';
ALTER TABLE rollouts ADD COLUMN memo jsonb NOT NULL DEFAULT '{}';

-- A drain that PodDisruptionBudgets keep blocked, and a manual window that passed unfinished,
-- pause the rollout for a person.
ALTER TABLE rollouts DROP CONSTRAINT rollouts_pause_reason_check;
ALTER TABLE rollouts ADD CONSTRAINT rollouts_pause_reason_check
  CHECK (pause_reason IN ('window-closed', 'freeze', 'approval', 'operator', 'inconclusive-gate', 'gate-error', 'gate-failed', 'drain-stuck', 'window-missed'));
