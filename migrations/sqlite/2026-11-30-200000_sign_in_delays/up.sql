-- Sign-in attempts held back after failures: one row per sign-in step, account and source.
-- `account` is the SHA-256 (hex) of the e-mail as typed once normalised, whether an account has
-- it or not, so that an unknown e-mail is held back exactly like a known one; `source` is the
-- client's address (an IPv6 address as its /64), or '*' for every source together. A claim
-- counts a failure before the password or code is checked (see
-- docs/decisions/0016-sign-in-abuse.md); a success deletes the rows it counted in.
CREATE TABLE sign_in_delays (
    step TEXT NOT NULL CHECK (step IN ('password', 'one_time_code')),
    account TEXT NOT NULL,
    source TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    held_until TIMESTAMP,
    last_failure_at TIMESTAMP NOT NULL,
    PRIMARY KEY (step, account, source)
);
CREATE INDEX sign_in_delays_account ON sign_in_delays (account);

-- The lockout kept on the aidant row is replaced by the delays above.
ALTER TABLE aidants DROP COLUMN locked_until;
ALTER TABLE aidants DROP COLUMN failed_attempts;
