//! The chain off the request path, as transparency logs keep theirs (decision 0020).
//!
//! A journalled change [`record`]s its entry into `journal_queue`, in its own transaction and
//! without the chain's lock, so that the change and its entry still commit together while no
//! request waits for another's commit. A sequencer ([`sequence_pending`]) later takes the chain's
//! lock, reads queued rows in queue order, gives each its `seq`, `prev_hash` and `hash` exactly as
//! an entry always had them, inserts them into `journal_entries` and deletes them from the
//! queue, in one transaction. Every running server sequences every
//! `journal.sequence_interval_ms`, and every reader of the journal sequences first, so that what
//! has been committed is what readers see.
//!
//! An entry is chained exactly once whoever sequences: the lock orders sequencers, the queue
//! rows a sequencer deletes must be the ones it read, and the primary key on `seq` turns any
//! lapse of either into an error (a rolled-back batch), never a fork or a duplicate.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{lock_chain, JournalAction, JournalDetails, JournalEntry, NewEntry, GENESIS_HASH};
use crate::db::{truncate_to_micros, write_transaction, DbConnection};
use crate::domain::Demarche;
use crate::error::{StoreError, StoreResult};
use crate::schema::{journal_entries, journal_queue};

/// How many queued entries one sequencing transaction chains at most: enough to drain a busy
/// interval in one go, few enough that the lock is held for milliseconds.
pub const SEQUENCE_BATCH: i64 = 500;

#[derive(Insertable)]
#[diesel(table_name = journal_queue)]
struct NewQueued {
    created_at: NaiveDateTime,
    action: JournalAction,
    aidant_id: Option<String>,
    organisation_id: Option<String>,
    usager_id: Option<String>,
    mandate_id: Option<String>,
    authorisation_id: Option<String>,
    demarche: Option<Demarche>,
    client_id: Option<String>,
    details: Option<JournalDetails>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = journal_queue)]
struct Queued {
    id: i64,
    created_at: NaiveDateTime,
    action: JournalAction,
    aidant_id: Option<String>,
    organisation_id: Option<String>,
    usager_id: Option<String>,
    mandate_id: Option<String>,
    authorisation_id: Option<String>,
    demarche: Option<Demarche>,
    client_id: Option<String>,
    details: Option<JournalDetails>,
}

/// Records one entry, made at `now`, for the sequencer to chain. Call it inside the transaction
/// that makes the change it records, so that both happen or neither. It takes no lock: the
/// entry's place in the chain is given later, its time is the event's.
pub fn record(conn: &mut DbConnection, entry: NewEntry, now: NaiveDateTime) -> StoreResult<()> {
    let queued = NewQueued {
        created_at: truncate_to_micros(now),
        action: entry.action,
        aidant_id: entry.aidant_id,
        organisation_id: entry.organisation_id,
        usager_id: entry.usager_id,
        mandate_id: entry.mandate_id,
        authorisation_id: entry.authorisation_id,
        demarche: entry.demarche,
        client_id: entry.client_id,
        details: entry.details.map(JournalDetails::new),
    };
    diesel::insert_into(journal_queue::table).values(&queued).execute(conn)?;
    Ok(())
}

/// Chains at most `max` queued entries, oldest queued first, in one transaction under the chain's
/// lock; returns how many. Whatever process queued them, and whether or not it still runs.
pub fn sequence_pending(conn: &mut DbConnection, max: i64) -> StoreResult<usize> {
    // Nearly every call finds the queue empty: one read, without the lock or a write
    // transaction (on SQLite, without the database's write lock).
    if max < 1 || !is_pending(conn)? {
        return Ok(0);
    }
    write_transaction(conn, |conn| {
        lock_chain(conn)?;
        Ok(chain_queued(conn, max)?.len())
    })
}

/// Chains everything queued, batch after batch: what a reader does before reading, so that it
/// sees every entry committed before it asked.
pub fn catch_up(conn: &mut DbConnection) -> StoreResult<()> {
    while sequence_pending(conn, SEQUENCE_BATCH)? as i64 == SEQUENCE_BATCH {}
    Ok(())
}

/// How many entries wait to be chained.
pub fn pending_count(conn: &mut DbConnection) -> StoreResult<i64> {
    Ok(journal_queue::table.count().get_result(conn)?)
}

fn is_pending(conn: &mut DbConnection) -> StoreResult<bool> {
    Ok(journal_queue::table
        .select(journal_queue::id)
        .order(journal_queue::id.asc())
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// With the chain's lock held: chains every queued entry.
pub(crate) fn chain_all_queued(conn: &mut DbConnection) -> StoreResult<()> {
    while chain_queued(conn, SEQUENCE_BATCH)?.len() as i64 == SEQUENCE_BATCH {}
    Ok(())
}

/// With the chain's lock held: chains `entry` directly at the head, without the queue. For the
/// few callers that need the chained entry at once (a checkpoint, the command line).
pub(crate) fn chain_at_head(conn: &mut DbConnection, entry: NewEntry, now: NaiveDateTime) -> StoreResult<JournalEntry> {
    let (seq, prev_hash) = head_link(conn)?;
    let mut stored = JournalEntry {
        seq: seq + 1,
        created_at: truncate_to_micros(now),
        action: entry.action,
        aidant_id: entry.aidant_id,
        organisation_id: entry.organisation_id,
        usager_id: entry.usager_id,
        mandate_id: entry.mandate_id,
        authorisation_id: entry.authorisation_id,
        demarche: entry.demarche,
        client_id: entry.client_id,
        details: entry.details.map(JournalDetails::new),
        prev_hash,
        hash: String::new(),
    };
    stored.hash = stored.expected_hash();
    diesel::insert_into(journal_entries::table).values(&stored).execute(conn)?;
    Ok(stored)
}

/// The head's `seq` and `hash` (0 and the genesis hash for an empty journal).
fn head_link(conn: &mut DbConnection) -> StoreResult<(i64, String)> {
    let head: Option<(i64, String)> = journal_entries::table
        .order(journal_entries::seq.desc())
        .select((journal_entries::seq, journal_entries::hash))
        .first(conn)
        .optional()?;
    Ok(head.unwrap_or((0, GENESIS_HASH.to_owned())))
}

/// With the chain's lock held: moves at most `max` queued entries onto the chain.
fn chain_queued(conn: &mut DbConnection, max: i64) -> StoreResult<Vec<JournalEntry>> {
    let queued: Vec<Queued> =
        journal_queue::table.order(journal_queue::id.asc()).limit(max).select(Queued::as_select()).load(conn)?;
    if queued.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = queued.iter().map(|q| q.id).collect();
    let (mut seq, mut prev_hash) = head_link(conn)?;
    let mut chained = Vec::with_capacity(queued.len());
    for q in queued {
        seq += 1;
        let mut entry = JournalEntry {
            seq,
            created_at: q.created_at,
            action: q.action,
            aidant_id: q.aidant_id,
            organisation_id: q.organisation_id,
            usager_id: q.usager_id,
            mandate_id: q.mandate_id,
            authorisation_id: q.authorisation_id,
            demarche: q.demarche,
            client_id: q.client_id,
            details: q.details,
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.expected_hash();
        diesel::insert_into(journal_entries::table).values(&entry).execute(conn)?;
        prev_hash = entry.hash.clone();
        chained.push(entry);
    }
    // Under the lock no one else can have taken these rows; should that ever fail, the batch is
    // rolled back rather than an entry chained twice.
    let removed = diesel::delete(journal_queue::table.filter(journal_queue::id.eq_any(&ids))).execute(conn)?;
    if removed != ids.len() {
        return Err(StoreError::JournalSequencing(format!(
            "{} queued entries were chained but {removed} left the queue: another sequencer ran",
            ids.len()
        )));
    }
    Ok(chained)
}
