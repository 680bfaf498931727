-- The OpenID provider's state: relying parties, browser sessions, authorization requests in
-- progress, grants with their codes and tokens. Secrets (client secrets, session ids, codes,
-- tokens) are stored as SHA-256 hex of high-entropy random values, never in clear.

-- The last TOTP time step accepted for an aidant: a code works once (RFC 6238 §5.2).
ALTER TABLE aidants ADD COLUMN last_totp_step BIGINT;

CREATE TABLE clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    auth_method TEXT NOT NULL CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
    jwks TEXT,
    jwks_uri TEXT,
    id_token_signed_response_alg TEXT NOT NULL,
    userinfo_signed_response_alg TEXT,
    subject_type TEXT NOT NULL CHECK (subject_type IN ('pairwise', 'public')),
    sector_identifier TEXT NOT NULL,
    demarches TEXT NOT NULL,
    backchannel_logout_uri TEXT,
    created_at TIMESTAMP NOT NULL
);

-- A browser's session with the provider: anonymous first, then a helper's once logged in.
-- `sid` is the public identifier put in tokens; `id_hash` the hash of the cookie's secret.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    sid TEXT NOT NULL UNIQUE,
    aidant_id TEXT REFERENCES aidants (id) ON DELETE CASCADE,
    organisation_id TEXT REFERENCES organisations (id),
    password_verified_at TIMESTAMP,
    authenticated_at TIMESTAMP,
    second_factor_at TIMESTAMP,
    last_seen_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);

-- An authorization request waiting for the helper to log in and choose.
CREATE TABLE authorization_requests (
    id TEXT PRIMARY KEY NOT NULL,
    session_sid TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    params TEXT NOT NULL,
    usager_id TEXT,
    demarche TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- What the helper chose for a relying party: who, for which démarche, under which authorisation.
CREATE TABLE grants (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    session_sid TEXT NOT NULL,
    aidant_id TEXT NOT NULL REFERENCES aidants (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL,
    usager_id TEXT NOT NULL REFERENCES usagers (id) ON DELETE CASCADE,
    demarche TEXT NOT NULL,
    authorisation_id TEXT NOT NULL,
    mandate_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    claims TEXT,
    nonce TEXT,
    auth_time TIMESTAMP NOT NULL,
    acr TEXT NOT NULL,
    amr TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX grants_session_client ON grants (session_sid, client_id);

CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX tokens_grant ON tokens (grant_id);

-- private_key_jwt client assertions already used (replay refused until they expire).
CREATE TABLE client_assertion_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, jti)
);
