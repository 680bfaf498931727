-- Foundation schema (PostgreSQL). Keep in meaning identical to migrations/sqlite.
-- Types are restricted to what both backends share: ids as TEXT (UUID), UTC TIMESTAMP,
-- BOOLEAN, INTEGER/BIGINT.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    siret TEXT NOT NULL,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_siret ON organisations (siret);

CREATE TABLE aidants (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    profession TEXT NOT NULL,
    phone TEXT,
    current_organisation_id TEXT NOT NULL REFERENCES organisations (id),
    role TEXT NOT NULL CHECK (role IN ('aidant', 'manager')),
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    totp_step_seconds INTEGER NOT NULL DEFAULT 30 CHECK (totp_step_seconds IN (30, 60)),
    charter_signed_at TIMESTAMP,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
-- Emails are stored lower-cased by the code; the index makes uniqueness hold even if not.
CREATE UNIQUE INDEX aidants_email_ci ON aidants (lower(email));

CREATE TABLE aidant_organisations (
    aidant_id TEXT NOT NULL REFERENCES aidants (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (aidant_id, organisation_id)
);

CREATE TABLE usagers (
    id TEXT PRIMARY KEY NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    birthdate TEXT NOT NULL,
    gender TEXT NOT NULL CHECK (gender IN ('male', 'female')),
    birthplace TEXT NOT NULL DEFAULT '',
    birthcountry TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    preferred_username TEXT,
    street_address TEXT,
    postal_code TEXT,
    locality TEXT,
    country TEXT,
    upstream_issuer TEXT NOT NULL,
    upstream_subject TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (upstream_issuer, upstream_subject)
);

CREATE TABLE mandates (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    usager_id TEXT NOT NULL REFERENCES usagers (id) ON DELETE CASCADE,
    created_by_aidant_id TEXT NOT NULL REFERENCES aidants (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    duration_kind TEXT NOT NULL CHECK (duration_kind IN ('short', 'month', 'semester', 'long', 'custom')),
    is_remote BOOLEAN NOT NULL,
    consent_proof TEXT,
    attestation_hash TEXT,
    revoked_at TIMESTAMP,
    revoked_by_aidant_id TEXT REFERENCES aidants (id)
);
CREATE INDEX mandates_organisation_usager ON mandates (organisation_id, usager_id);

CREATE TABLE authorisations (
    id TEXT PRIMARY KEY NOT NULL,
    mandate_id TEXT NOT NULL REFERENCES mandates (id) ON DELETE CASCADE,
    demarche TEXT NOT NULL CHECK (demarche IN ('papiers', 'famille', 'social', 'travail', 'logement',
        'transports', 'argent', 'justice', 'etranger', 'loisirs')),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    revoked_by_aidant_id TEXT REFERENCES aidants (id)
);
CREATE INDEX authorisations_mandate ON authorisations (mandate_id);

-- The journal: append-only hash chain. No foreign keys on purpose, so that a usager can be
-- erased at the end of retention while every entry stays whole and verifiable.
CREATE TABLE journal_entries (
    seq BIGINT PRIMARY KEY NOT NULL,
    created_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    aidant_id TEXT,
    organisation_id TEXT,
    usager_id TEXT,
    mandate_id TEXT,
    authorisation_id TEXT,
    demarche TEXT,
    client_id TEXT,
    details TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);

CREATE FUNCTION journal_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal_entries is append-only: % refused', TG_OP;
END;
$$;
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_entries_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_entries_refuse_change();
