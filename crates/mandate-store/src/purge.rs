//! The purge: what is no longer needed goes. Codes, tokens, sessions, requests and logins past
//! their expiry are deleted; grants nothing can use any more go with their codes; failed
//! sign-ins older than a day are forgotten; and a usager whose mandates all ended more than the
//! retention period ago, with none live, is erased (their row stays, emptied, for the ids that
//! name it: see [`crate::erasure`]). Why these rules: docs/decisions/0022-retention-and-purge.md.
//!
//! Rows are deleted in batches, each batch in its own transaction, so that a purge of a large
//! backlog never holds SQLite's write lock (or PostgreSQL's row locks) for long, and a purge
//! stopped half-way leaves every row either there or gone, never half of one: each usager is
//! erased in one transaction of its own, journal entry included. Running it twice, or on two
//! replicas at once, is harmless: the second finds nothing left to do.

use chrono::{Duration, NaiveDateTime};
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{write_transaction, DbConnection};
use crate::erasure::{self, Erasure, ErasureReason};
use crate::error::StoreResult;
use crate::schema::{
    authorization_codes, authorization_requests, client_assertion_jtis, grants, mandate_drafts, mandates, sessions,
    tokens, upstream_logins, usager_sessions, usagers,
};
use crate::sign_in_delays;

/// Rows deleted per transaction.
pub const BATCH: i64 = 500;

/// Failed sign-ins with no wait running are forgotten after this (as `idp maintenance` does).
pub const SIGN_IN_FAILURES_KEPT: Duration = Duration::days(1);

/// What the purge removes, table by table: counted by [`count`], done by [`purge`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Authorization codes past their expiry, never exchanged (those exchanged go with their
    /// grant: a replay must find them while the tokens they gave live).
    pub authorization_codes: u64,
    /// Access and refresh tokens past their expiry.
    pub tokens: u64,
    /// Grants with no token or code left to use, of a session no longer live.
    pub grants: u64,
    /// Helpers' browser sessions past their lifetime (ended ones included).
    pub sessions: u64,
    /// Usagers' sessions in their own space past their lifetime.
    pub usager_sessions: u64,
    /// Authorization requests nobody finished in time.
    pub authorization_requests: u64,
    /// Logins at the upstream provider nobody came back from in time.
    pub upstream_logins: u64,
    /// New-mandate drafts abandoned past their lifetime.
    pub mandate_drafts: u64,
    /// Client assertion ids kept against replay, past the assertion's expiry.
    pub client_assertion_jtis: u64,
    /// Failed sign-ins older than a day with no wait running.
    pub sign_in_delays: u64,
    /// Usagers erased at the end of retention.
    pub usagers_erased: u64,
}

impl Purged {
    /// Each table of rows past their use with its count, in the order the purge goes through
    /// them (the usagers erased aside).
    pub fn rows(&self) -> [(&'static str, u64); 10] {
        [
            ("authorization codes", self.authorization_codes),
            ("tokens", self.tokens),
            ("grants", self.grants),
            ("helper sessions", self.sessions),
            ("usager sessions", self.usager_sessions),
            ("authorization requests", self.authorization_requests),
            ("upstream logins", self.upstream_logins),
            ("mandate drafts", self.mandate_drafts),
            ("client assertion ids", self.client_assertion_jtis),
            ("failed sign-ins", self.sign_in_delays),
        ]
    }

    /// Rows removed in all, the usagers erased aside.
    pub fn rows_removed(&self) -> u64 {
        self.rows().iter().map(|(_, count)| count).sum()
    }
}

/// The instant before which (inclusive) every mandate of a usager must have ended for the
/// usager to be erased at `now`.
pub fn usager_retention_cutoff(now: NaiveDateTime, usager_days: u32) -> NaiveDateTime {
    now - Duration::days(i64::from(usager_days))
}

/// The usagers to erase at `now`: not erased yet, recorded before the cutoff, and with no
/// mandate that ended after it (a live mandate has not ended at all). A mandate ends when it
/// expires or is revoked, whichever comes first. A usager recorded before the cutoff who never
/// had a mandate is among them: nothing justifies keeping who they are.
pub fn usagers_past_retention(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    usager_days: u32,
) -> StoreResult<Vec<String>> {
    let cutoff = usager_retention_cutoff(now, usager_days);
    let ended_after_cutoff = mandates::table
        .filter(mandates::usager_id.eq(usagers::id))
        .filter(mandates::expires_at.gt(cutoff))
        .filter(mandates::revoked_at.is_null().or(mandates::revoked_at.gt(cutoff)));
    Ok(usagers::table
        .filter(usagers::erased_at.is_null())
        .filter(usagers::created_at.le(cutoff))
        .filter(not(exists(ended_after_cutoff)))
        .order(usagers::created_at.asc())
        .select(usagers::id)
        .load(conn)?)
}

/// What [`purge`] would remove at `now`, changing nothing.
pub fn count(conn: &mut DbConnection, now: NaiveDateTime, usager_days: u32) -> StoreResult<Purged> {
    let count = |n: i64| n.max(0) as u64;
    Ok(Purged {
        authorization_codes: count(
            authorization_codes::table
                .filter(authorization_codes::expires_at.le(now))
                .filter(authorization_codes::used_at.is_null())
                .count()
                .get_result(conn)?,
        ),
        tokens: count(tokens::table.filter(tokens::expires_at.le(now)).count().get_result(conn)?),
        grants: count(dead_grants(conn, now, i64::MAX)?.len() as i64),
        sessions: count(sessions::table.filter(sessions::expires_at.le(now)).count().get_result(conn)?),
        usager_sessions: count(
            usager_sessions::table.filter(usager_sessions::expires_at.le(now)).count().get_result(conn)?,
        ),
        authorization_requests: count(
            authorization_requests::table
                .filter(authorization_requests::expires_at.le(now))
                .count()
                .get_result(conn)?,
        ),
        upstream_logins: count(
            upstream_logins::table.filter(upstream_logins::expires_at.le(now)).count().get_result(conn)?,
        ),
        mandate_drafts: count(
            mandate_drafts::table.filter(mandate_drafts::expires_at.le(now)).count().get_result(conn)?,
        ),
        client_assertion_jtis: count(
            client_assertion_jtis::table.filter(client_assertion_jtis::expires_at.le(now)).count().get_result(conn)?,
        ),
        sign_in_delays: sign_in_delays::count_old(conn, now - SIGN_IN_FAILURES_KEPT, now)? as u64,
        usagers_erased: usagers_past_retention(conn, now, usager_days)?.len() as u64,
    })
}

/// Removes what is no longer needed at `now` (see the module's documentation) and says how much.
pub fn purge(conn: &mut DbConnection, now: NaiveDateTime, usager_days: u32) -> StoreResult<Purged> {
    let mut purged = Purged {
        authorization_codes: in_batches(conn, |conn| {
            let batch: Vec<String> = authorization_codes::table
                .filter(authorization_codes::expires_at.le(now))
                .filter(authorization_codes::used_at.is_null())
                .select(authorization_codes::code_hash)
                .limit(BATCH)
                .load(conn)?;
            diesel::delete(authorization_codes::table.filter(authorization_codes::code_hash.eq_any(&batch)))
                .execute(conn)?;
            Ok(batch.len())
        })?,
        tokens: in_batches(conn, |conn| {
            let batch: Vec<String> =
                tokens::table.filter(tokens::expires_at.le(now)).select(tokens::token_hash).limit(BATCH).load(conn)?;
            diesel::delete(tokens::table.filter(tokens::token_hash.eq_any(&batch))).execute(conn)?;
            Ok(batch.len())
        })?,
        grants: in_batches(conn, |conn| {
            let batch = dead_grants(conn, now, BATCH)?;
            // Their exchanged codes go with them: no token is left for a replay to revoke.
            diesel::delete(authorization_codes::table.filter(authorization_codes::grant_id.eq_any(&batch)))
                .execute(conn)?;
            diesel::delete(grants::table.filter(grants::id.eq_any(&batch))).execute(conn)?;
            Ok(batch.len())
        })?,
        sessions: in_batches(conn, |conn| {
            let batch: Vec<String> = sessions::table
                .filter(sessions::expires_at.le(now))
                .select(sessions::id_hash)
                .limit(BATCH)
                .load(conn)?;
            diesel::delete(sessions::table.filter(sessions::id_hash.eq_any(&batch))).execute(conn)?;
            Ok(batch.len())
        })?,
        usager_sessions: in_batches(conn, |conn| {
            let batch: Vec<String> = usager_sessions::table
                .filter(usager_sessions::expires_at.le(now))
                .select(usager_sessions::id_hash)
                .limit(BATCH)
                .load(conn)?;
            diesel::delete(usager_sessions::table.filter(usager_sessions::id_hash.eq_any(&batch))).execute(conn)?;
            Ok(batch.len())
        })?,
        authorization_requests: in_batches(conn, |conn| {
            let batch: Vec<String> = authorization_requests::table
                .filter(authorization_requests::expires_at.le(now))
                .select(authorization_requests::id)
                .limit(BATCH)
                .load(conn)?;
            diesel::delete(authorization_requests::table.filter(authorization_requests::id.eq_any(&batch)))
                .execute(conn)?;
            Ok(batch.len())
        })?,
        upstream_logins: in_batches(conn, |conn| {
            let batch: Vec<String> = upstream_logins::table
                .filter(upstream_logins::expires_at.le(now))
                .select(upstream_logins::state_hash)
                .limit(BATCH)
                .load(conn)?;
            diesel::delete(upstream_logins::table.filter(upstream_logins::state_hash.eq_any(&batch))).execute(conn)?;
            Ok(batch.len())
        })?,
        mandate_drafts: in_batches(conn, |conn| {
            let batch: Vec<String> = mandate_drafts::table
                .filter(mandate_drafts::expires_at.le(now))
                .select(mandate_drafts::id)
                .limit(BATCH)
                .load(conn)?;
            // A login at the upstream provider still pending for a draft goes with it.
            diesel::delete(upstream_logins::table.filter(upstream_logins::draft_id.eq_any(&batch))).execute(conn)?;
            diesel::delete(mandate_drafts::table.filter(mandate_drafts::id.eq_any(&batch))).execute(conn)?;
            Ok(batch.len())
        })?,
        // Few rows (one per private_key_jwt assertion, living minutes): one statement.
        client_assertion_jtis: write_transaction(conn, |conn| {
            diesel::delete(client_assertion_jtis::table.filter(client_assertion_jtis::expires_at.le(now))).execute(conn)
        })? as u64,
        sign_in_delays: sign_in_delays::forget_old(conn, now - SIGN_IN_FAILURES_KEPT, now)? as u64,
        usagers_erased: 0,
    };
    for usager_id in usagers_past_retention(conn, now, usager_days)? {
        // One transaction each: a usager is erased whole, journal entry included, or not at all.
        if let Erasure::Erased { .. } = erasure::erase(conn, &usager_id, ErasureReason::Retention, now)? {
            purged.usagers_erased += 1;
        }
    }
    Ok(purged)
}

/// Grants nothing can use any more at `now` (at most `limit`): no token and no code left
/// unexpired, and their session gone or past its lifetime (a live session may reuse its last
/// grant for `prompt=none`).
fn dead_grants(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> StoreResult<Vec<String>> {
    let live_token = tokens::table
        .filter(tokens::grant_id.eq(grants::id))
        .filter(tokens::expires_at.gt(now))
        .select(tokens::grant_id);
    let live_code = authorization_codes::table
        .filter(authorization_codes::grant_id.eq(grants::id))
        .filter(authorization_codes::expires_at.gt(now))
        .select(authorization_codes::grant_id);
    let live_session = sessions::table
        .filter(sessions::sid.eq(grants::session_sid))
        .filter(sessions::expires_at.gt(now))
        .select(sessions::sid);
    Ok(grants::table
        .filter(not(exists(live_token)))
        .filter(not(exists(live_code)))
        .filter(not(exists(live_session)))
        .select(grants::id)
        .limit(limit)
        .load(conn)?)
}

/// Runs `batch` in a transaction of its own, again and again while it removes a full batch;
/// returns how many rows it removed in all.
fn in_batches(
    conn: &mut DbConnection,
    mut batch: impl FnMut(&mut DbConnection) -> StoreResult<usize>,
) -> StoreResult<u64> {
    let mut total = 0u64;
    loop {
        let removed = write_transaction(conn, &mut batch)?;
        total += removed as u64;
        if (removed as i64) < BATCH {
            return Ok(total);
        }
    }
}
