DROP TABLE usager_sessions;
ALTER TABLE authorisations DROP COLUMN revoked_by_usager;
ALTER TABLE mandates DROP COLUMN revoked_by_usager;
