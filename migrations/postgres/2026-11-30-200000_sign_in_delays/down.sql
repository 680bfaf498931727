ALTER TABLE aidants ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE aidants ADD COLUMN locked_until TIMESTAMP;
DROP TABLE sign_in_delays;
