-- Notifications: a transactional outbox (a row is queued in the transaction of the state change it
-- tells about, so it exists if and only if that change committed) drained by every server replica,
-- and the log of each delivery attempt.

CREATE TABLE notification_outbox (
  id bigserial PRIMARY KEY,
  -- Standard Webhooks' webhook-id: the same on every attempt, so a receiver can drop repeats.
  message_id text NOT NULL UNIQUE DEFAULT ('msg_' || replace(gen_random_uuid()::text, '-', '')),
  kind text NOT NULL,
  rollout_id bigint NOT NULL,
  host text,
  receiver text NOT NULL,
  -- The receiver's definition when the row was queued: what it is sent to even if the policy
  -- changes meanwhile. Environment variable names only, never a secret.
  target jsonb NOT NULL,
  mode text NOT NULL CHECK (mode IN ('page', 'ticket', 'info')),
  dedup_key text NOT NULL CHECK (length(dedup_key) <= 255),
  action text NOT NULL CHECK (action IN ('trigger', 'resolve')),
  -- The body as built when queued (PagerDuty's routing key and a webhook's signature are added
  -- when sending).
  payload jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'suppressed')),
  -- Events of the same kind, receiver and dedup key folded into this row while it waited: a storm
  -- is one request.
  coalesced integer NOT NULL DEFAULT 0,
  attempts integer NOT NULL DEFAULT 0,
  -- NULL: at once, whatever the clock of the replica that looks (retries are set by the dispatcher's).
  next_attempt_at timestamptz,
  -- The dispatcher sending it, until when: a replica killed mid-send leaves a lease that expires,
  -- and another takes the row.
  lease_holder text,
  lease_expires_at timestamptz,
  last_status integer,
  last_error text,
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- When it was delivered, failed for good or suppressed.
  finished_at timestamptz
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at NULLS FIRST) WHERE state = 'pending';
-- A key's rows go out in order (a resolve never overtakes its trigger), and coalescing finds the newest.
CREATE INDEX notification_outbox_pending_key ON notification_outbox (receiver, dedup_key, id) WHERE state = 'pending';
CREATE INDEX notification_outbox_state ON notification_outbox (state, id);

CREATE TABLE notification_attempts (
  id bigserial PRIMARY KEY,
  notification_id bigint NOT NULL REFERENCES notification_outbox (id) ON DELETE CASCADE,
  attempt integer NOT NULL CHECK (attempt >= 1),
  dispatcher text NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  status_code integer,
  error text,
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed'))
);
CREATE INDEX notification_attempts_notification ON notification_attempts (notification_id, id);
