-- Applied policy files (fleetpatch.yaml), one row per change: the latest revision is the policy in
-- force on every replica. Rows are only ever added; the text is kept whole so any two revisions
-- can be compared and an old one shown exactly as it was applied.
CREATE TABLE policy_revisions (
  revision      integer PRIMARY KEY,
  -- SHA-256 of the text, hex: applying the same content again is recognised and stores nothing.
  content_hash  text NOT NULL,
  author        text NOT NULL,
  message       text NOT NULL DEFAULT '',
  -- Where the text came from (a file name, `api`), for people reading the history.
  source        text NOT NULL,
  policy_text   text NOT NULL,
  -- Unified diff against the previous revision (against nothing for the first).
  diff          text NOT NULL,
  applied_at    timestamptz NOT NULL DEFAULT now()
);

-- ID_LIKE of /etc/os-release: a policy's `os: { family: debian }` also takes Ubuntu hosts, and
-- re-assigning stored hosts after a policy change must see the same families a check-in does.
ALTER TABLE hosts ADD COLUMN os_id_like jsonb;
