DROP TABLE journal_queue;
DROP FUNCTION journal_queue_refuse_update();
