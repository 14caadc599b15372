-- The emergency path: an incident's rollouts (one per affected bucket, each its bucket's strategy),
-- the relaxations a person approved for them, the reviews those decisions owe, and notifications
-- about an incident rather than a rollout.

ALTER TABLE rollouts DROP CONSTRAINT rollouts_origin_check;
ALTER TABLE rollouts ADD CONSTRAINT rollouts_origin_check CHECK (origin IN ('operator', 'schedule', 'emergency'));
ALTER TABLE rollouts ADD COLUMN incident_id integer REFERENCES incidents (id);
-- What this rollout may skip (windows, freezes, cooldowns), as approved; never gates or budgets.
ALTER TABLE rollouts ADD COLUMN relaxations text[] NOT NULL DEFAULT '{}';
ALTER TABLE rollouts ADD CHECK ((origin = 'emergency') = (incident_id IS NOT NULL));
ALTER TABLE rollouts ADD CHECK (relaxations <@ ARRAY['windows', 'freezes', 'cooldowns']::text[]);
CREATE INDEX rollouts_incident ON rollouts (incident_id, bucket) WHERE incident_id IS NOT NULL;

-- The hosts in scope when the incident last looked: the next look records what changed.
ALTER TABLE incidents ADD COLUMN scope_hosts text[];
-- Per bucket, why its emergency rollout could not be made (no image carries the fix, a routine rollout holds the bucket).
ALTER TABLE incidents ADD COLUMN plan_notes jsonb NOT NULL DEFAULT '{}';

-- A relaxation approved for a bucket of an incident, and the post-change review it schedules.
CREATE TABLE incident_relaxations (
  incident_id    integer NOT NULL REFERENCES incidents (id),
  bucket         text NOT NULL,
  relaxes        text[] NOT NULL CHECK (cardinality(relaxes) > 0 AND relaxes <@ ARRAY['windows', 'freezes', 'cooldowns']::text[]),
  approved_by    text NOT NULL,
  approved_at    timestamptz NOT NULL,
  why            text NOT NULL,
  review_due_at  timestamptz NOT NULL,
  reviewed_at    timestamptz,
  reviewed_by    text,
  review_notes   text,
  PRIMARY KEY (incident_id, bucket),
  CHECK ((reviewed_at IS NULL) = (reviewed_by IS NULL) AND (reviewed_at IS NULL) = (review_notes IS NULL))
);
CREATE INDEX incident_relaxations_review_due ON incident_relaxations (review_due_at) WHERE reviewed_at IS NULL;

-- An update posted by fleetpatch because nobody posted in time: which slot it stood in for.
ALTER TABLE incident_updates ADD COLUMN missed_slot timestamptz;

ALTER TABLE notification_outbox ALTER COLUMN rollout_id DROP NOT NULL;
ALTER TABLE notification_outbox ADD COLUMN incident_id integer;
ALTER TABLE notification_outbox ADD CHECK ((rollout_id IS NULL) <> (incident_id IS NULL));
