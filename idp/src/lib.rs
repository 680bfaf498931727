//! Aidants IdP: an OpenID Connect provider that lets a trained helper (aidant) act for a
//! person (usager) under a live mandate, and says so in the tokens it signs.

pub mod admin;
pub mod allocator;
pub mod blocking;
pub mod cli;
pub mod client_keys;
pub mod configuration;
pub mod database_wait;
pub mod demo_upstream;
pub mod encoding;
pub mod journal_export;
pub mod journal_proof;
pub mod journal_sequencer;
pub mod keys;
pub mod metrics;
pub mod oidc;
pub mod pages;
pub mod passwords;
pub mod protocol;
pub mod purge;
pub mod relying_party;
pub mod routes;
pub mod sandbox;
pub mod sealing_keys;
pub mod startup;
pub mod telemetry;
pub mod totp;
pub mod upstream;
pub mod wal_checkpoints;
pub mod web;
