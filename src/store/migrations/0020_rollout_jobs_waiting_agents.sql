-- The agents' waiting jobs only (the long poll's look-up names executor 'agent'). Over every
-- unreported job, the index also served recording a result, whose rows the primary key finds: a
-- plan made early in a rollout, when few jobs waited, kept scanning the whole index, old entries
-- of reported jobs included (26,000 entries for 1,700 live rows in bench:rollout), for each batch.
DROP INDEX rollout_jobs_waiting;
CREATE INDEX rollout_jobs_waiting ON rollout_jobs (host, dispatched_at) WHERE reported_at IS NULL AND executor = 'agent';
