-- The audit log: one append-only table of canonical JSON entries hashed as RFC 6962 leaves, the
-- append head that numbers them without gaps, and the signed checkpoints of the tree.

-- One row: the number of entries appended. Appends lock it FOR UPDATE inside the transaction of
-- the change they record, so entries are numbered in commit order, gapless, on any number of
-- processes; an aborted change gives its number back.
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  size bigint NOT NULL CHECK (size >= 0)
);
INSERT INTO audit_head (size) VALUES (0);

CREATE TABLE audit_log (
  -- 1-based; leaf index seq - 1 of the Merkle tree; the tree of size n covers entries 1..n.
  seq bigint PRIMARY KEY CHECK (seq >= 1),
  -- The RFC 8785 canonical JSON that was hashed (text, not jsonb: jsonb would reorder it).
  entry text NOT NULL,
  -- SHA-256(0x00 || entry), 32 bytes.
  leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
  -- Copies of fields of the entry for listing and filtering; verify checks they agree with it.
  recorded_at timestamptz NOT NULL,
  action text NOT NULL,
  actor text NOT NULL
);
CREATE INDEX audit_log_recorded_at ON audit_log (recorded_at);
CREATE INDEX audit_log_action ON audit_log (action text_pattern_ops);

-- Checkpoints are recorded here as well as written to files outside the database; only the files
-- (and copies of them elsewhere) hold against a database superuser.
CREATE TABLE audit_checkpoints (
  tree_size bigint NOT NULL CHECK (tree_size >= 0),
  key_id text NOT NULL,
  root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
  signed_at timestamptz NOT NULL,
  -- The signer's public key (SPKI DER), so a checkpoint of another replica's key can be checked;
  -- trust comes from the key file an auditor holds, not from this column.
  public_key bytea NOT NULL,
  signature bytea NOT NULL,
  PRIMARY KEY (tree_size, key_id)
);

-- Refuses every change but INSERT. These stop mistakes and ordinary roles; the table owner or a
-- superuser can still disable them, which is what `fleetpatch audit verify` and the checkpoints
-- outside the database catch.
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
-- The head only ever grows.
CREATE FUNCTION audit_head_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.size < OLD.size THEN
    RAISE EXCEPTION 'audit_head only grows (% to %)', OLD.size, NEW.size USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_head_grows BEFORE UPDATE ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_head_only_grows();
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Also under `SET session_replication_role = replica`, which skips ordinary triggers.
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_append_only;
ALTER TABLE audit_checkpoints ENABLE ALWAYS TRIGGER audit_checkpoints_no_truncate;
ALTER TABLE audit_head ENABLE ALWAYS TRIGGER audit_head_grows;
ALTER TABLE audit_head ENABLE ALWAYS TRIGGER audit_head_no_delete;
ALTER TABLE audit_head ENABLE ALWAYS TRIGGER audit_head_no_truncate;
