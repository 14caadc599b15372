-- Compliance reports and VEX (issue 11). A risk acceptance gains an approver (someone other than
-- the person who asked for it), an OpenVEX justification when the approver attests that the flaw
-- cannot be exploited here (without one it is exported as affected, never as not affected), and
-- the VEX document it was imported from, if any. Rows from before keep none of these: still valid.
ALTER TABLE risk_acceptances
  ADD COLUMN approved_by text,
  ADD COLUMN justification text CHECK (justification IN ('component_not_present', 'vulnerable_code_not_present',
    'vulnerable_code_not_in_execute_path', 'vulnerable_code_cannot_be_controlled_by_adversary', 'inline_mitigations_already_exist')),
  ADD COLUMN imported_from text;

-- A report's "by which rollout" looks up each fixed host's rollouts from the time of its fix on.
CREATE INDEX rollout_hosts_host_state_since ON rollout_hosts (host, state_since);
