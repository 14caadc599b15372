-- Control plane: ownership, per-host finding summaries for fleet numbers, tokens and agents.

ALTER TABLE hosts
  ADD COLUMN bucket text NOT NULL DEFAULT 'unassigned',
  ADD COLUMN team text NOT NULL DEFAULT 'unowned',
  ADD COLUMN agent_version text,
  ADD COLUMN boot_id text,
  -- Digest of the package list the agent last sent, the base its next delta must start from.
  ADD COLUMN inventory_digest text,
  -- Open findings of this host by severity (vulnerable or pending reboot), kept with the digest.
  ADD COLUMN open_critical integer NOT NULL DEFAULT 0,
  ADD COLUMN open_high integer NOT NULL DEFAULT 0,
  ADD COLUMN open_medium integer NOT NULL DEFAULT 0,
  ADD COLUMN open_low integer NOT NULL DEFAULT 0,
  ADD COLUMN open_other integer NOT NULL DEFAULT 0,
  ADD COLUMN pending_reboot_findings integer NOT NULL DEFAULT 0,
  -- Days behind: how many open findings have a fix, and the sum of the days their fixes became
  -- available (days since the epoch), so any moment's average age is count * today - sum.
  ADD COLUMN open_fixes integer NOT NULL DEFAULT 0,
  ADD COLUMN open_fix_available_day_sum double precision NOT NULL DEFAULT 0;

CREATE INDEX hosts_bucket_team ON hosts (bucket, team);
CREATE INDEX hosts_last_seen ON hosts (last_seen_at);

-- API tokens carry a role; only a SHA-256 of the token is stored.
CREATE TABLE api_tokens (
  id            serial PRIMARY KEY,
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  token_hash    text NOT NULL UNIQUE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);

-- Enrollment tokens let agents register; each enrolled host then gets its own credential.
CREATE TABLE enrollment_tokens (
  id          serial PRIMARY KEY,
  name        text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  labels      jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz
);

-- A per-host credential: it can write only that host's data.
CREATE TABLE agent_credentials (
  host_name        text PRIMARY KEY,
  credential_hash  text NOT NULL UNIQUE,
  created_at       timestamptz NOT NULL DEFAULT now()
);
