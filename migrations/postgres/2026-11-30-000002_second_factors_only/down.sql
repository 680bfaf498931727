ALTER TABLE aidants ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE aidants ADD COLUMN totp_step_seconds INTEGER NOT NULL DEFAULT 30 CHECK (totp_step_seconds IN (30, 60));
ALTER TABLE aidants ADD COLUMN last_totp_step BIGINT;
-- The oldest confirmed authenticator app comes back on the aidant row.
UPDATE aidants SET
    totp_secret = COALESCE((SELECT f.secret FROM second_factors f WHERE f.aidant_id = aidants.id
        AND f.kind = 'app' AND f.confirmed_at IS NOT NULL ORDER BY f.created_at LIMIT 1), ''),
    totp_step_seconds = COALESCE((SELECT f.step_seconds FROM second_factors f WHERE f.aidant_id = aidants.id
        AND f.kind = 'app' AND f.confirmed_at IS NOT NULL ORDER BY f.created_at LIMIT 1), 30),
    last_totp_step = (SELECT f.last_step FROM second_factors f WHERE f.aidant_id = aidants.id
        AND f.kind = 'app' AND f.confirmed_at IS NOT NULL ORDER BY f.created_at LIMIT 1);
