-- Access control that can be taken back: enrollment tokens expire, have a use limit and can be
-- revoked; API tokens and host credentials can be revoked; an enrolled host name cannot be taken
-- over by whoever holds an enrollment token; retired hosts leave a record.

ALTER TABLE enrollment_tokens
  ADD COLUMN max_uses integer CHECK (max_uses IS NULL OR max_uses > 0),
  ADD COLUMN uses integer NOT NULL DEFAULT 0,
  ADD COLUMN revoked_at timestamptz,
  ADD COLUMN created_by text;

ALTER TABLE api_tokens
  ADD COLUMN revoked_at timestamptz,
  ADD COLUMN created_by text;

ALTER TABLE agent_credentials
  -- The labels the enrollment token granted: they win over what the agent sends.
  ADD COLUMN granted_labels jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN enrollment_token_id integer REFERENCES enrollment_tokens (id) ON DELETE SET NULL,
  ADD COLUMN revoked_at timestamptz,
  -- An operator's approval for the name to be enrolled again (a reinstalled host), used once.
  ADD COLUMN reenrollment_approved_until timestamptz,
  ADD COLUMN reenrollment_approved_by text;

-- A host taken out of the fleet: its live rows are deleted, this record stays.
CREATE TABLE retired_hosts (
  id                  serial PRIMARY KEY,
  name                text NOT NULL,
  bucket              text NOT NULL,
  team                text NOT NULL,
  retired_at          timestamptz NOT NULL DEFAULT now(),
  retired_by          text NOT NULL,
  reason              text NOT NULL,
  open_findings       integer NOT NULL,
  last_seen_at        timestamptz
);
CREATE INDEX retired_hosts_name ON retired_hosts (name);

-- A row may hold only an operator's approval for a name that has no credential yet (a host fed by
-- imports, or one whose credential was revoked).
ALTER TABLE agent_credentials ALTER COLUMN credential_hash DROP NOT NULL;
