//! The store's behaviour, on SQLite and on PostgreSQL.

mod accounts;
mod bad_input;
mod corrupt_rows;
mod erasure;
mod exchange;
mod files;
mod fixtures;
mod habilitation;
mod helper_space;
mod journal;
mod journal_checkpoints;
mod journal_properties;
mod journal_queue;
mod journal_search;
mod liveness;
mod maintenance;
mod mandates;
mod operator;
mod organisations;
mod purge;
mod restart;
mod sealing;
mod server_secrets;
mod sign_in_delays;
mod statements;
mod statistics;
mod wal_restart;
mod write_turns;

/// Not a test on its own: the two-process journal test runs this binary twice with
/// `--ignored --exact journal_child_appender`, each child appending to the same database.
#[test]
#[ignore = "helper process for journal::appends_from_two_processes_keep_one_chain"]
fn journal_child_appender() {
    journal::child_appender_main();
}

/// Not a test on its own: records journal entries, then dies before anything chains them.
#[test]
#[ignore = "helper process for journal_queue::an_entry_queued_by_a_process_that_died_is_chained_by_the_next_reader"]
fn journal_dying_recorder() {
    journal_queue::dying_recorder_main();
}

/// Not a test on its own: records and sequences alongside the test's own threads.
#[test]
#[ignore = "helper process for journal_queue::concurrent_recording_and_sequencing_never_fork_nor_duplicate"]
fn journal_recording_child() {
    journal_queue::recording_child_main();
}
