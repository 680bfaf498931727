//! Administration behind the command line: clients, mandates, demo data.

pub mod clients;
pub mod demo;
pub mod records;
