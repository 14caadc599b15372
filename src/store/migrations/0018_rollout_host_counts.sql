-- A rollout's hosts counted by wave, state and slot, kept by the statements that change them: a
-- pass reads its rollout's few count rows instead of counting every host row (a scan of 10,000
-- rows, and of their dead versions mid-rollout, in each of hundreds of passes a minute).
CREATE TABLE rollout_host_counts (
  rollout_id  integer NOT NULL REFERENCES rollouts (id),
  wave        integer NOT NULL,
  state       text NOT NULL,
  slot_held   boolean NOT NULL,
  n           integer NOT NULL,
  PRIMARY KEY (rollout_id, wave, state, slot_held)
);

INSERT INTO rollout_host_counts (rollout_id, wave, state, slot_held, n)
SELECT rollout_id, wave, state, slot_held, count(*) FROM rollout_hosts GROUP BY rollout_id, wave, state, slot_held;

-- One statement's change of the counts, from its transition tables. Rows that only changed their
-- news, memo or job (check-ins, job results) add nothing, and nothing is written. Count rows are
-- taken in key order, so two statements that meet wait for each other instead of deadlocking.
CREATE FUNCTION rollout_host_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO rollout_host_counts AS c (rollout_id, wave, state, slot_held, n)
    SELECT rollout_id, wave, state, slot_held, count(*) FROM inserted_hosts
     GROUP BY rollout_id, wave, state, slot_held ORDER BY rollout_id, wave, state, slot_held
    ON CONFLICT (rollout_id, wave, state, slot_held) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE rollout_host_counts c SET n = c.n - d.n
      FROM (SELECT rollout_id, wave, state, slot_held, count(*) AS n FROM deleted_hosts GROUP BY rollout_id, wave, state, slot_held) d
     WHERE (c.rollout_id, c.wave, c.state, c.slot_held) = (d.rollout_id, d.wave, d.state, d.slot_held);
  ELSE
    INSERT INTO rollout_host_counts AS c (rollout_id, wave, state, slot_held, n)
    SELECT rollout_id, wave, state, slot_held, sum(delta) FROM (
        SELECT rollout_id, wave, state, slot_held, 1 AS delta FROM inserted_hosts
        UNION ALL
        SELECT rollout_id, wave, state, slot_held, -1 FROM deleted_hosts
      ) changed
     GROUP BY rollout_id, wave, state, slot_held HAVING sum(delta) <> 0
     ORDER BY rollout_id, wave, state, slot_held
    ON CONFLICT (rollout_id, wave, state, slot_held) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER rollout_host_counts_insert AFTER INSERT ON rollout_hosts
  REFERENCING NEW TABLE AS inserted_hosts FOR EACH STATEMENT EXECUTE FUNCTION rollout_host_counts_apply();
CREATE TRIGGER rollout_host_counts_update AFTER UPDATE ON rollout_hosts
  REFERENCING OLD TABLE AS deleted_hosts NEW TABLE AS inserted_hosts FOR EACH STATEMENT EXECUTE FUNCTION rollout_host_counts_apply();
CREATE TRIGGER rollout_host_counts_delete AFTER DELETE ON rollout_hosts
  REFERENCING OLD TABLE AS deleted_hosts FOR EACH STATEMENT EXECUTE FUNCTION rollout_host_counts_apply();
