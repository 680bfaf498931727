-- Organisations run themselves: what an organisation is and may offer, who manages it, a
-- helper's habilitation and account life (enrolment links, second factors, TOTP cards).

-- An organisation's type, INSEE department and region codes ('75', '2A', '971'; '11', '84'),
-- and the démarches it may offer (a JSON list, like clients.demarches). Existing rows get
-- "other", empty codes (shown as not given) and every démarche, which is what they could do.
ALTER TABLE organisations ADD COLUMN organisation_type TEXT NOT NULL DEFAULT 'other'
    CHECK (organisation_type IN ('france_services', 'ccas', 'mairie', 'departement', 'association', 'other'));
ALTER TABLE organisations ADD COLUMN department_code TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN region_code TEXT NOT NULL DEFAULT '';
ALTER TABLE organisations ADD COLUMN demarches TEXT NOT NULL
    DEFAULT '["papiers","famille","social","travail","logement","transports","argent","justice","etranger","loisirs"]';

-- Managing is per organisation: a manager of one organisation may be a plain helper in another.
-- The global aidants.role it replaces is carried over to every membership of a manager.
ALTER TABLE aidant_organisations ADD COLUMN is_manager BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE aidant_organisations SET is_manager = TRUE
    WHERE aidant_id IN (SELECT id FROM aidants WHERE role = 'manager');

-- Habilitation: the training day attended and the digital-skills certification (PIX) passed,
-- as calendar dates (YYYY-MM-DD, like usagers.birthdate), and the version of the ethics charter
-- accepted (charter_signed_at says when). Existing helpers, who already act, keep acting: their
-- habilitation is recorded as of their creation, and their charter as the first version.
ALTER TABLE aidants ADD COLUMN training_date TEXT;
ALTER TABLE aidants ADD COLUMN pix_date TEXT;
ALTER TABLE aidants ADD COLUMN charter_version TEXT;
UPDATE aidants SET training_date = to_char(created_at, 'YYYY-MM-DD'), pix_date = to_char(created_at, 'YYYY-MM-DD');
UPDATE aidants SET charter_version = '2026-11' WHERE charter_signed_at IS NOT NULL;

-- An account's life: the last successful sign-in (six months without one deactivates), and why
-- and when an account was deactivated ('manager' or 'inactivity'; null while active).
ALTER TABLE aidants ADD COLUMN last_sign_in_at TIMESTAMP;
ALTER TABLE aidants ADD COLUMN deactivated_at TIMESTAMP;
ALTER TABLE aidants ADD COLUMN deactivation_reason TEXT
    CHECK (deactivation_reason IS NULL OR deactivation_reason IN ('manager', 'inactivity'));

-- A helper's second factors: an authenticator app (30-second step) or a physical TOTP card
-- (60-second step, its serial). A factor is usable once confirmed by a first code; the last
-- accepted time step is per factor, so a code works once. A card serves one helper at a time.
CREATE TABLE second_factors (
    id TEXT PRIMARY KEY NOT NULL,
    aidant_id TEXT NOT NULL REFERENCES aidants (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('app', 'card')),
    secret TEXT NOT NULL,
    step_seconds INTEGER NOT NULL CHECK (step_seconds IN (30, 60)),
    card_serial TEXT UNIQUE,
    last_step BIGINT,
    confirmed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX second_factors_aidant ON second_factors (aidant_id);

-- Physical TOTP cards as imported by the operator (`idp card import`): serial and secret.
-- Assigning one to a helper creates their 'card' second factor.
CREATE TABLE totp_cards (
    serial TEXT PRIMARY KEY NOT NULL,
    secret TEXT NOT NULL,
    step_seconds INTEGER NOT NULL DEFAULT 60 CHECK (step_seconds IN (30, 60)),
    imported_at TIMESTAMP NOT NULL
);

-- One-time enrolment links, shown once to the manager who created them: only the hash of the
-- token is kept. Valid 72 hours, used once (used_at), superseded by a newer link.
CREATE TABLE enrolment_links (
    token_hash TEXT PRIMARY KEY NOT NULL,
    aidant_id TEXT NOT NULL REFERENCES aidants (id) ON DELETE CASCADE,
    created_by_aidant_id TEXT REFERENCES aidants (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX enrolment_links_aidant ON enrolment_links (aidant_id);

-- Every helper's existing authenticator becomes their first, confirmed second factor.
INSERT INTO second_factors (id, aidant_id, kind, secret, step_seconds, card_serial, last_step, confirmed_at, created_at)
    SELECT 'app-' || id, id, 'app', totp_secret, totp_step_seconds, NULL, last_totp_step, created_at, created_at
    FROM aidants WHERE totp_secret <> '';
