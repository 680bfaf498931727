-- The journal's queue (decision 0020). A journalled change inserts its entry here, in its own
-- transaction and without the chain's lock; a sequencer later moves queued rows, oldest id first,
-- into journal_entries, where they get their seq and hashes. The columns are an entry's, with no
-- hash yet: ids and non-personal details only, like the journal itself.
-- AUTOINCREMENT: ids are never reused, so id order is the order in which rows were queued.
CREATE TABLE journal_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    action TEXT NOT NULL,
    aidant_id TEXT,
    organisation_id TEXT,
    usager_id TEXT,
    mandate_id TEXT,
    authorisation_id TEXT,
    demarche TEXT,
    client_id TEXT,
    details TEXT
);

-- A queued entry is chained as it was written: the sequencer deletes it, nothing changes it.
CREATE TRIGGER journal_queue_no_update BEFORE UPDATE ON journal_queue
BEGIN
    SELECT RAISE(ABORT, 'journal_queue rows are chained as written: UPDATE refused');
END;
