DROP TABLE client_assertion_jtis;
DROP TABLE tokens;
DROP TABLE authorization_codes;
DROP TABLE grants;
DROP TABLE authorization_requests;
DROP TABLE sessions;
DROP TABLE clients;
ALTER TABLE aidants DROP COLUMN last_totp_step;
