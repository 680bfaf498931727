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
mod journal_search;
mod liveness;
mod maintenance;
mod mandates;
mod operator;
mod organisations;
mod purge;
mod server_secrets;
mod sign_in_delays;
mod statistics;

/// Not a test on its own: the two-process journal test runs this binary twice with
/// `--ignored --exact journal_child_appender`, each child appending to the same database.
#[test]
#[ignore = "helper process for journal::appends_from_two_processes_keep_one_chain"]
fn journal_child_appender() {
    journal::child_appender_main();
}
