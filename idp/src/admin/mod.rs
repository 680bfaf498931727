//! Administration behind the command line: organisations, helpers' habilitation, clients,
//! mandates, the journal, demo data.

pub mod cards;
pub mod clients;
pub mod demo;
pub mod habilitation;
pub mod journal;
pub mod journal_bundle;
pub mod maintenance;
pub mod organisations;
pub mod records;
pub mod secrets;
