-- Reading the journal by organisation, helper or usager, newest first and page by page
-- (`journal::search`): each index leads with the filtered id and ends with `seq`, so a page
-- is a short range scan in `seq` order, whatever the journal's size.
CREATE INDEX journal_entries_organisation ON journal_entries (organisation_id, seq);
CREATE INDEX journal_entries_aidant ON journal_entries (aidant_id, seq);
CREATE INDEX journal_entries_usager ON journal_entries (usager_id, seq);
