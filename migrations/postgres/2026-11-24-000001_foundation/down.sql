DROP TABLE journal_entries;
DROP FUNCTION journal_entries_refuse_change();
DROP TABLE authorisations;
DROP TABLE mandates;
DROP TABLE usagers;
DROP TABLE aidant_organisations;
DROP TABLE aidants;
DROP TABLE organisations;
