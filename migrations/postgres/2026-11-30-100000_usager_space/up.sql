-- The usager's own space (/espace-usager): the usager signs in through the upstream provider,
-- sees their mandates and the accesses made under them, and may revoke them.

-- A revocation by the usager names no helper (revoked_by_aidant_id stays null): these say it
-- was the usager, so that the helpers' pages and the attestations can tell.
ALTER TABLE mandates ADD COLUMN revoked_by_usager BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE authorisations ADD COLUMN revoked_by_usager BOOLEAN NOT NULL DEFAULT FALSE;

-- The usager's browser session, apart from the helpers' (`sessions`): the cookie holds a random
-- secret, this table its SHA-256. `usager_id` is null while the upstream login is under way
-- (the login's `state` is bound to `sid`); set once the provider's answer named a known usager.
CREATE TABLE usager_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    sid TEXT NOT NULL UNIQUE,
    usager_id TEXT REFERENCES usagers (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX usager_sessions_usager ON usager_sessions (usager_id);
