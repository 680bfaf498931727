-- What the purge (`idp maintenance purge`) looks for: rows past their expiry, and a usager's
-- mandates, found through an index batch after batch rather than by reading whole tables.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX usager_sessions_expires ON usager_sessions (expires_at);
CREATE INDEX authorization_requests_expires ON authorization_requests (expires_at);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_grant ON authorization_codes (grant_id);
CREATE INDEX tokens_expires ON tokens (expires_at);
CREATE INDEX upstream_logins_expires ON upstream_logins (expires_at);
CREATE INDEX mandate_drafts_expires ON mandate_drafts (expires_at);
CREATE INDEX mandates_usager ON mandates (usager_id);
