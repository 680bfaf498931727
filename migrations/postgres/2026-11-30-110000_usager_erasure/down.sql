ALTER TABLE usagers DROP COLUMN erased_at;
