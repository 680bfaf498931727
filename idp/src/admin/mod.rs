//! Administration behind the command line: clients, mandates, the journal, demo data.

pub mod clients;
pub mod demo;
pub mod journal;
pub mod maintenance;
pub mod records;
