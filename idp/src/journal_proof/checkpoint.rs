//! Signing checkpoints: what the JWS says, and the server's periodic signing.

use std::time::Duration;

use chrono::NaiveDateTime;
use mandate_store::journal::checkpoints::{self, Checkpoint, CheckpointClaims, SignedCheckpoint};
use mandate_store::{DbConnection, Store};
use serde::{Deserialize, Serialize};

use super::ProofError;
use crate::keys::{KeySet, SigningAlg};

/// The JWS `typ` of a checkpoint: its payload is a set of claims, but not a token for anyone to
/// present, so it is not `JWT` (RFC 8725 §3.11: distinct kinds get distinct types).
pub const CHECKPOINT_TYP: &str = "journal-checkpoint+jwt";

/// A checkpoint's signed payload (`docs/journal-format.md`, "Checkpoints").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointPayload {
    /// The provider's issuer URL: whose journal this is.
    pub iss: String,
    /// How many entries the journal held before the checkpoint.
    pub size: i64,
    /// The hash of entry `size` (64 zeros for an empty journal).
    pub head_hash: String,
    /// The checkpoint entry's own `created_at`, as its hash covers it.
    pub time: String,
}

impl CheckpointPayload {
    fn new(issuer: &str, claims: &CheckpointClaims) -> CheckpointPayload {
        CheckpointPayload {
            iss: issuer.to_owned(),
            size: claims.size,
            head_hash: claims.head_hash.clone(),
            time: claims.time.clone(),
        }
    }
}

/// Signs a checkpoint of the journal as it stands with the current RS256 key (the one every
/// relying party already trusts), unless nothing was appended since the last one.
pub fn sign(
    conn: &mut DbConnection,
    keys: &KeySet,
    issuer: &str,
    now: NaiveDateTime,
) -> Result<Checkpoint, ProofError> {
    Ok(checkpoints::sign(conn, now, |claims| {
        let payload =
            serde_json::to_value(CheckpointPayload::new(issuer, claims)).map_err(|_| crate::keys::KeyError::Signing)?;
        let (jws, jwk) = keys.sign_keeping_jwk(SigningAlg::Rs256, CHECKPOINT_TYP, &payload)?;
        Ok(SignedCheckpoint { jws, jwk })
    })?)
}

/// Signs a checkpoint every `interval` for as long as the server runs (started by `idp serve`).
/// The first comes one interval after start. Replicas may all run this: the store makes one
/// checkpoint when two sign at once, and none when nothing was appended since the last.
pub async fn sign_periodically(store: Store, keys: KeySet, issuer: String, interval: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (store, keys, issuer) = (store.clone(), keys.clone(), issuer.clone());
        let signed = tokio::task::spawn_blocking(move || -> Result<Option<Checkpoint>, ProofError> {
            let mut conn = store.conn()?;
            // An empty journal has nothing to prove yet.
            if checkpoints::head(&mut conn)?.is_none() {
                return Ok(None);
            }
            sign(&mut conn, &keys, &issuer, mandate_store::now()).map(Some)
        })
        .await;
        match signed {
            Ok(Ok(Some(Checkpoint::Signed(entry)))) => {
                tracing::info!(seq = entry.seq, size = entry.seq - 1, "journal checkpoint signed")
            }
            Ok(Ok(Some(Checkpoint::Current(_)) | None)) => {
                tracing::debug!("journal unchanged since its last checkpoint")
            }
            Ok(Err(error)) => tracing::error!(%error, "journal checkpoint failed; trying again at the next interval"),
            // The runtime is shutting down.
            Err(_) => return,
        }
    }
}
