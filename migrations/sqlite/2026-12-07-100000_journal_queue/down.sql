DROP TRIGGER journal_queue_no_update;
DROP TABLE journal_queue;
