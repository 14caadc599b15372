-- Incidents: the emergency path for an advisory that meets the policy's emergency triggers (or
-- one an operator declares). The scope is computed on demand from the findings of the incident's
-- advisories; what is kept here is what happened: the incident, its timeline and its status updates.
CREATE TABLE incidents (
  id               serial PRIMARY KEY,
  state            text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
  title            text NOT NULL,
  -- The advisories' stored ids (an alias given by an operator is resolved to the stored id).
  advisories       text[] NOT NULL CHECK (cardinality(advisories) > 0),
  -- Why it was opened, in words: the triggers met, or the operator's reason.
  trigger_reason   text NOT NULL,
  opened_at        timestamptz NOT NULL,
  -- 'system:emergency' or the operator's actor name.
  opened_by        text NOT NULL,
  closed_at        timestamptz,
  closed_by        text,
  close_reason     text,
  -- The policy's emergency.statusEvery when it opened: a policy change never moves a running cadence.
  status_every_ms  bigint NOT NULL CHECK (status_every_ms > 0),
  commander        text,
  CHECK ((state = 'closed') = (closed_at IS NOT NULL AND closed_by IS NOT NULL AND close_reason IS NOT NULL))
);
-- "Is an open incident already covering this advisory" reads only the open ones.
CREATE INDEX incidents_open_advisories ON incidents USING gin (advisories) WHERE state = 'open';
CREATE INDEX incidents_opened ON incidents (opened_at DESC, id DESC);

-- The timeline: one TimelineEvent (src/domain/incidents/incident-timeline.ts) per row, as JSON with
-- ISO timestamps, numbered per incident in the order they were recorded.
CREATE TABLE incident_events (
  incident_id  integer NOT NULL REFERENCES incidents (id),
  seq          integer NOT NULL CHECK (seq >= 1),
  at           timestamptz NOT NULL,
  kind         text NOT NULL,
  event        jsonb NOT NULL,
  PRIMARY KEY (incident_id, seq)
);

-- Status updates as posted: drafted by fleetpatch (automatic) or written by the commander.
CREATE TABLE incident_updates (
  id           serial PRIMARY KEY,
  incident_id  integer NOT NULL REFERENCES incidents (id),
  posted_at    timestamptz NOT NULL,
  author       text NOT NULL,
  automatic    boolean NOT NULL,
  markdown     text NOT NULL,
  -- The scope's counts when posted ({ total, byBucket, byTeam }): the next draft's "change since".
  counts       jsonb NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, posted_at, id);
