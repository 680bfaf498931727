//! All persistent state of Aidants IdP, through diesel on SQLite or PostgreSQL.
//!
//! Functions take a `&mut DbConnection` (from [`Store::conn`]) and an explicit `now`, so that
//! the rules about time are tested without waiting. Nothing here knows about HTTP or OIDC.

pub mod aidants;
pub mod authorization_requests;
pub mod cards;
pub mod clients;
pub mod db;
pub mod domain;
pub mod enrolment;
pub mod erasure;
pub mod error;
pub mod exchange;
pub mod grants;
pub mod habilitation;
pub mod journal;
pub mod lock_wait;
pub mod maintenance;
pub mod mandate_drafts;
pub mod mandates;
pub mod organisations;
pub mod purge;
pub mod resealing;
pub mod schema;
pub mod sealing;
pub mod second_factors;
pub mod server_secrets;
pub mod sessions;
pub mod sign_in_delays;
pub mod statistics;
pub mod text_columns;
pub mod upstream_logins;
pub mod usager_sessions;
pub mod usagers;

pub use db::{now, write_transaction, Backend, DbConnection, LogCheckpoint, PoolUsage, Store};
pub use domain::{
    ClientAuthMethod, Demarche, Department, DurationKind, Email, OrganisationType, Region, Role, SigningAlg, Siret,
    SubjectType,
};
pub use error::{StoreError, StoreResult};
/// Attestations belong to mandates; named at the top for the pages and commands that print them.
pub use mandates::attestation;

/// SHA-256 of a secret, in hex: how session ids, codes, tokens and client secrets are stored.
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(feature = "test-support")]
pub mod testing;
