-- A usager erased (`idp usager erase`, the retention purge) keeps their row, emptied of every
-- personal field, so that their mandates' non-personal rows and the journal, which name them
-- by id, stay whole. The time of the erasure says the row is no longer a person's identity.
ALTER TABLE usagers ADD COLUMN erased_at TIMESTAMP;
