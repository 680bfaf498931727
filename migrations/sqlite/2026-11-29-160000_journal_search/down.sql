DROP INDEX journal_entries_usager;
DROP INDEX journal_entries_aidant;
DROP INDEX journal_entries_organisation;
