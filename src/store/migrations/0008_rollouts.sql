-- The rollout engine's durable state: a row per rollout and per (rollout, host), a row per job
-- sent to a host (its key is the step's idempotency key), the timeline, and gate measurements.
-- Every transition is written here before its side effect; a replica drives a rollout while it
-- holds the rollout's lease, and each pass re-checks the lease under the row's lock.

CREATE TABLE rollouts (
  id                serial PRIMARY KEY,
  bucket            text NOT NULL,
  team              text NOT NULL,
  state             text NOT NULL CHECK (state IN ('created', 'waiting-for-window', 'running', 'baking', 'paused', 'halted', 'rolling-back', 'succeeded', 'completed-with-errors', 'canceled')),
  pause_reason      text CHECK (pause_reason IN ('window-closed', 'freeze', 'approval', 'operator', 'inconclusive-gate', 'gate-error', 'gate-failed')),
  halt_reason       text CHECK (halt_reason IN ('gate-failed', 'budget-spent', 'stuck-host')),
  reason            text,
  current_wave      integer NOT NULL DEFAULT 0,
  wave_count        integer NOT NULL CHECK (wave_count >= 1),
  bake_until        timestamptz,
  -- The content snapshot: every host gets these versions of the packages it has.
  snapshot          jsonb NOT NULL,
  -- The bucket's settings at creation (counts resolved): a policy change never alters a running rollout.
  settings          jsonb NOT NULL,
  gates             jsonb NOT NULL DEFAULT '[]',
  windows           jsonb NOT NULL DEFAULT '[]',
  -- What made it: an operator, or the policy's schedule for one window occurrence (at most one each).
  origin            text NOT NULL CHECK (origin IN ('operator', 'schedule')),
  advisory_id       text,
  window_name       text,
  occurrence_start  timestamptz,
  policy_revision   integer,
  created_by        text NOT NULL,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  finished_at       timestamptz,
  -- The replica driving it, until when; a dead holder's lease expires and another takes over.
  lease_holder      text,
  lease_expires_at  timestamptz,
  next_pass_at      timestamptz NOT NULL,
  UNIQUE (bucket, window_name, occurrence_start)
);
CREATE INDEX rollouts_due ON rollouts (next_pass_at) WHERE state NOT IN ('succeeded', 'completed-with-errors', 'canceled');

CREATE TABLE rollout_hosts (
  rollout_id           integer NOT NULL REFERENCES rollouts (id),
  host                 text NOT NULL,
  wave                 integer NOT NULL,
  -- Admission order within the rollout (canaries first).
  position             integer NOT NULL,
  state                text NOT NULL,
  attempt              integer NOT NULL DEFAULT 1,
  state_since          timestamptz NOT NULL,
  deadline             timestamptz,
  slot_held            boolean NOT NULL DEFAULT false,
  last_error           text,
  -- What the upgrade replaced ({name, from, to}): what a rollback reinstalls.
  replaced             jsonb NOT NULL DEFAULT '[]',
  boot_id_before       text,
  reboot_requested_at  timestamptz,
  job_key              text,
  PRIMARY KEY (rollout_id, host)
);
CREATE INDEX rollout_hosts_host ON rollout_hosts (host);

-- One row per job sent to a host: the key is the idempotency key of the step and attempt, so a
-- pass repeated after a crash finds its job already here and the agent never runs it twice.
CREATE TABLE rollout_jobs (
  key            text PRIMARY KEY,
  rollout_id     integer NOT NULL REFERENCES rollouts (id),
  host           text NOT NULL,
  step           text NOT NULL,
  attempt        integer NOT NULL,
  job            jsonb NOT NULL,
  dispatched_at  timestamptz NOT NULL,
  deadline       timestamptz NOT NULL,
  fetched_at     timestamptz,
  result         jsonb,
  reported_at    timestamptz
);
CREATE INDEX rollout_jobs_waiting ON rollout_jobs (host, dispatched_at) WHERE reported_at IS NULL;

-- The timeline: every host transition and rollout change, with who or what caused it.
CREATE TABLE rollout_events (
  id          bigserial PRIMARY KEY,
  rollout_id  integer NOT NULL REFERENCES rollouts (id),
  at          timestamptz NOT NULL,
  host        text,
  kind        text NOT NULL,
  from_state  text,
  to_state    text,
  actor       text NOT NULL DEFAULT 'engine',
  detail      text
);
CREATE INDEX rollout_events_rollout ON rollout_events (rollout_id, id);
CREATE INDEX rollout_events_host ON rollout_events (host, id) WHERE host IS NOT NULL;

-- Every gate measurement, kept and shown (Argo keeps them on the analysis run).
CREATE TABLE gate_measurements (
  id          bigserial PRIMARY KEY,
  rollout_id  integer NOT NULL REFERENCES rollouts (id),
  gate        text NOT NULL,
  -- post-wave and continuous gates: the wave; post-host gates: the host as well.
  wave        integer NOT NULL,
  host        text NOT NULL DEFAULT '',
  taken_at    timestamptz NOT NULL,
  phase       text NOT NULL CHECK (phase IN ('successful', 'failed', 'inconclusive', 'error')),
  value       double precision,
  detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX gate_measurements_rollout ON gate_measurements (rollout_id, gate, wave, host, taken_at);
