DROP TABLE upstream_logins;
DROP TABLE mandate_drafts;
ALTER TABLE mandates DROP COLUMN renewed_from_id;
ALTER TABLE mandates DROP COLUMN template_version;
ALTER TABLE mandates DROP COLUMN attestation_salt;
