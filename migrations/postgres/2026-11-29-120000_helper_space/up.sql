-- The helper space: attestations, renewals, the new-mandate wizard and the upstream
-- (FranceConnect-style) login that verifies the usager's identity.

-- An attestation's hash is SHA-256 over the canonical mandate data, the template version and
-- this per-mandate salt (so that equal mandates do not hash alike). Null on older mandates.
ALTER TABLE mandates ADD COLUMN attestation_salt TEXT;
ALTER TABLE mandates ADD COLUMN template_version TEXT;
-- A renewal is a new mandate that names the one it replaces.
ALTER TABLE mandates ADD COLUMN renewed_from_id TEXT REFERENCES mandates (id);

-- A mandate being prepared by a helper in one browser session: démarches, duration, then the
-- usager once their identity came back verified from upstream. Short-lived; nothing of it is a
-- mandate until the usager consents.
CREATE TABLE mandate_drafts (
    id TEXT PRIMARY KEY NOT NULL,
    session_sid TEXT NOT NULL,
    aidant_id TEXT NOT NULL REFERENCES aidants (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    demarches TEXT NOT NULL,
    duration_kind TEXT CHECK (duration_kind IN ('short', 'month', 'semester', 'long')),
    usager_id TEXT REFERENCES usagers (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX mandate_drafts_session ON mandate_drafts (session_sid);

-- An upstream login under way: the hash of its `state`, the browser session it belongs to,
-- its `nonce` and PKCE verifier. Taken (deleted) once, by the callback.
CREATE TABLE upstream_logins (
    state_hash TEXT PRIMARY KEY NOT NULL,
    session_sid TEXT NOT NULL,
    draft_id TEXT REFERENCES mandate_drafts (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
