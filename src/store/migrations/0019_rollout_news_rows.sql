-- News for a pass as rows of its own instead of a counter on the host's row (migration 0010). A
-- job result or a check-in of a host in flight inserts a row, which waits for nothing: bumping the
-- counter waited for the host rows a pass holds (or skipped them and tried again), and made every
-- result and check-in one more non-HOT update of rollout_hosts and its indexes. The pass that reads
-- a host deletes the news rows it read; rows committed after its read stay for the next pass.
-- No foreign key: its check would take a share lock on the rollout row, which a pass holds. No
-- key either: a row is never updated, and the pass deletes the ones it read by row address.
CREATE TABLE rollout_news (
  rollout_id  integer NOT NULL,
  host        text NOT NULL
);
CREATE INDEX rollout_news_host ON rollout_news (rollout_id, host);

INSERT INTO rollout_news (rollout_id, host) SELECT rollout_id, host FROM rollout_hosts WHERE news <> seen;
DROP INDEX rollout_hosts_news;
ALTER TABLE rollout_hosts DROP COLUMN news, DROP COLUMN seen;
