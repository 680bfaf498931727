//! Signed checkpoints of the chain, in the manner of Certificate Transparency's signed tree
//! heads, and the reads an export bundle is made of.
//!
//! A checkpoint is itself an entry (`checkpoint_signed`) whose details carry the journal's
//! length before it (`size`), the hash of entry `size` (`head_hash`, equal to the checkpoint's
//! own `prev_hash`), the signature over both and the time (`jws`), and the public key that
//! signed (`jwk`), so that a checkpoint still verifies once its key has been retired and deleted.
//! The store does not sign: the caller hands it a signer, called with the append lock held.
//! `docs/journal-format.md` gives the rules a third party checks.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{canonical_time, catch_up, lock_chain, sequencer, JournalAction, JournalEntry, NewEntry, GENESIS_HASH};
use crate::db::{truncate_to_micros, write_transaction, DbConnection};
use crate::error::StoreError;
use crate::schema::journal_entries;

/// What a checkpoint states, for the signer to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointClaims {
    /// How many entries the journal holds before the checkpoint.
    pub size: i64,
    /// The hash of entry `size` (the genesis hash for an empty journal).
    pub head_hash: String,
    /// The checkpoint entry's own `created_at`, as the entry's hash covers it.
    pub time: String,
}

/// What the signer gives back.
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    /// A compact JWS over the claims.
    pub jws: String,
    /// The public JWK of the key that signed.
    pub jwk: serde_json::Value,
}

/// What [`sign`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkpoint {
    /// A new checkpoint entry, now the head.
    Signed(JournalEntry),
    /// The head already was a checkpoint (nothing was appended since): nothing was signed.
    Current(JournalEntry),
}

impl Checkpoint {
    pub fn entry(&self) -> &JournalEntry {
        match self {
            Checkpoint::Signed(entry) | Checkpoint::Current(entry) => entry,
        }
    }
}

/// Signing a checkpoint failed: in the store, or in the signer (its own error).
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Signer(E),
}

impl<E: std::error::Error + 'static> From<diesel::result::Error> for CheckpointError<E> {
    fn from(e: diesel::result::Error) -> Self {
        CheckpointError::Store(e.into())
    }
}

/// Signs a checkpoint of the chain as it stands and appends it, unless the head already is a
/// checkpoint. The head is read under the append lock, so two servers doing this at once make
/// one checkpoint, and no entry can slip in between the head signed and the checkpoint entry.
pub fn sign<E: std::error::Error + 'static>(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    signer: impl FnOnce(&CheckpointClaims) -> Result<SignedCheckpoint, E>,
) -> Result<Checkpoint, CheckpointError<E>> {
    write_transaction(conn, |conn| {
        lock_chain(conn)?;
        // What was queued before now is chained first, so that the checkpoint covers it.
        sequencer::chain_all_queued(conn)?;
        let head: Option<JournalEntry> = journal_entries::table
            .order(journal_entries::seq.desc())
            .select(JournalEntry::as_select())
            .first(conn)
            .optional()?;
        if let Some(head) = head.as_ref().filter(|head| head.action == JournalAction::CheckpointSigned) {
            return Ok(Checkpoint::Current(head.clone()));
        }
        let now = truncate_to_micros(now);
        let claims = CheckpointClaims {
            size: head.as_ref().map_or(0, |h| h.seq),
            head_hash: head.map_or_else(|| GENESIS_HASH.to_owned(), |h| h.hash),
            time: canonical_time(now),
        };
        let signed = signer(&claims).map_err(CheckpointError::Signer)?;
        let details = serde_json::json!({
            "size": claims.size,
            "head_hash": claims.head_hash,
            "jws": signed.jws,
            "jwk": signed.jwk,
        });
        // Chained directly on the head just signed: nothing queued since may come between.
        let entry =
            sequencer::chain_at_head(conn, NewEntry::new(JournalAction::CheckpointSigned).details(details), now)?;
        Ok(Checkpoint::Signed(entry))
    })
}

/// The newest entry, when there is one.
pub fn head(conn: &mut DbConnection) -> Result<Option<JournalEntry>, StoreError> {
    catch_up(conn)?;
    Ok(journal_entries::table
        .order(journal_entries::seq.desc())
        .select(JournalEntry::as_select())
        .first(conn)
        .optional()?)
}

/// The first entry made at or after `since`.
pub fn first_seq_since(conn: &mut DbConnection, since: NaiveDateTime) -> Result<Option<i64>, StoreError> {
    catch_up(conn)?;
    Ok(journal_entries::table
        .filter(journal_entries::created_at.ge(since))
        .order(journal_entries::seq.asc())
        .select(journal_entries::seq)
        .first(conn)
        .optional()?)
}

/// The newest checkpoint entry at or before `seq`.
pub fn checkpoint_at_or_before(conn: &mut DbConnection, seq: i64) -> Result<Option<i64>, StoreError> {
    catch_up(conn)?;
    Ok(journal_entries::table
        .filter(journal_entries::action.eq(JournalAction::CheckpointSigned))
        .filter(journal_entries::seq.le(seq))
        .order(journal_entries::seq.desc())
        .select(journal_entries::seq)
        .first(conn)
        .optional()?)
}

/// The checkpoint entries from `first` to `last` (both included), oldest first.
pub fn checkpoints_between(conn: &mut DbConnection, first: i64, last: i64) -> Result<Vec<JournalEntry>, StoreError> {
    catch_up(conn)?;
    Ok(journal_entries::table
        .filter(journal_entries::action.eq(JournalAction::CheckpointSigned))
        .filter(journal_entries::seq.between(first, last))
        .order(journal_entries::seq.asc())
        .select(JournalEntry::as_select())
        .load(conn)?)
}

/// At most `limit` entries from `first` to `last` (both included), oldest first: a page of an
/// export.
pub fn entries_between(
    conn: &mut DbConnection,
    first: i64,
    last: i64,
    limit: i64,
) -> Result<Vec<JournalEntry>, StoreError> {
    catch_up(conn)?;
    Ok(journal_entries::table
        .filter(journal_entries::seq.between(first, last))
        .order(journal_entries::seq.asc())
        .limit(limit)
        .select(JournalEntry::as_select())
        .load(conn)?)
}
