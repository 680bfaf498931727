-- One-time codes are checked against second_factors only (each factor with its own last
-- accepted step): the single authenticator kept on the aidant row, copied into second_factors
-- when that table was made, goes.
ALTER TABLE aidants DROP COLUMN last_totp_step;
ALTER TABLE aidants DROP COLUMN totp_step_seconds;
ALTER TABLE aidants DROP COLUMN totp_secret;
