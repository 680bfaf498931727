//! Erasing a usager's personal data, at their request or at the end of retention, while the
//! proof of what was done for them stays whole.
//!
//! The usager's row stays, emptied: their mandates, authorisations and grants name them by id,
//! and so does the journal, which is never rewritten. What could tie those ids back to the person
//! goes: identity fields, the upstream subject, contact details, each attestation's salt (the
//! journal holds salted hashes of the attestation's fields; without the salt no one can test a
//! guess of the name against them), remote consent proofs, and everything pending that would
//! carry the usager's claims to a service (authorization requests, mandate drafts, codes,
//! tokens). Live mandates are revoked first, so nothing acts for a person no longer known.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{truncate_to_micros, write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::{
    authorisations, authorization_codes, authorization_requests, grants, mandate_drafts, mandates, tokens,
    usager_sessions, usagers,
};

/// What [`erase_usager`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Erasure {
    /// The personal data is gone; these mandates were live and are now revoked.
    Erased { mandates_revoked: Vec<String> },
    /// The usager had already been erased (at that time): nothing changed.
    AlreadyErased { erased_at: NaiveDateTime },
}

/// Why a usager is erased, as the journal entry says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureReason {
    /// The usager asked (or the operator erased them by hand: `idp usager erase`).
    Request,
    /// Their mandates all ended longer ago than the retention period (`idp maintenance purge`).
    Retention,
}

impl ErasureReason {
    pub fn key(self) -> &'static str {
        match self {
            ErasureReason::Request => "request",
            ErasureReason::Retention => "retention",
        }
    }
}

/// Erases the usager `usager_id`'s personal data everywhere at their request (see [`erase`]).
pub fn erase_usager(conn: &mut DbConnection, usager_id: &str, now: NaiveDateTime) -> StoreResult<Erasure> {
    erase(conn, usager_id, ErasureReason::Request, now)
}

/// Erases the usager `usager_id`'s personal data everywhere, in one transaction, journalled as
/// one `usager_erased` entry saying why (and one `mandate_revoked` per live mandate), by id only.
/// The erasure is claimed by one conditional write first, so that two erasures of the same
/// usager at once (two replicas purging) journal it once.
pub fn erase(
    conn: &mut DbConnection,
    usager_id: &str,
    reason: ErasureReason,
    now: NaiveDateTime,
) -> StoreResult<Erasure> {
    let now = truncate_to_micros(now);
    write_transaction(conn, |conn| {
        let claimed = diesel::update(usagers::table.find(usager_id).filter(usagers::erased_at.is_null()))
            .set(usagers::erased_at.eq(Some(now)))
            .execute(conn)?;
        if claimed == 0 {
            let erased_at: Option<Option<NaiveDateTime>> =
                usagers::table.find(usager_id).select(usagers::erased_at).first(conn).optional()?;
            return match erased_at {
                Some(Some(erased_at)) => Ok(Erasure::AlreadyErased { erased_at }),
                _ => Err(StoreError::NotFound("usager")),
            };
        }

        let mandates_revoked = revoke_live_mandates(conn, usager_id, now)?;
        diesel::update(mandates::table.filter(mandates::usager_id.eq(usager_id)))
            .set((mandates::attestation_salt.eq(None::<String>), mandates::consent_proof.eq(None::<String>)))
            .execute(conn)?;

        // Grants end, with their tokens; codes not yet exchanged go.
        let grant_ids: Vec<String> =
            grants::table.filter(grants::usager_id.eq(usager_id)).select(grants::id).load(conn)?;
        diesel::update(tokens::table.filter(tokens::grant_id.eq_any(&grant_ids)).filter(tokens::revoked_at.is_null()))
            .set(tokens::revoked_at.eq(now))
            .execute(conn)?;
        diesel::delete(authorization_codes::table.filter(authorization_codes::grant_id.eq_any(&grant_ids)))
            .execute(conn)?;
        diesel::update(grants::table.filter(grants::usager_id.eq(usager_id)).filter(grants::revoked_at.is_null()))
            .set(grants::revoked_at.eq(now))
            .execute(conn)?;
        diesel::delete(authorization_requests::table.filter(authorization_requests::usager_id.eq(usager_id)))
            .execute(conn)?;
        diesel::delete(mandate_drafts::table.filter(mandate_drafts::usager_id.eq(usager_id))).execute(conn)?;
        // Signed in to their own space: those sessions end with the identity they were opened for.
        diesel::delete(usager_sessions::table.filter(usager_sessions::usager_id.eq(usager_id))).execute(conn)?;

        // The row stays for the ids that name it. The (issuer, subject) pair is unique: the
        // subject becomes a value that names no one and cannot collide. `gender` stays: a CHECK
        // allows only its two values, and alone it identifies no one (a later migration that
        // rebuilds the table on SQLite may make it nullable).
        diesel::update(usagers::table.find(usager_id))
            .set((
                usagers::given_name.eq(""),
                usagers::family_name.eq(""),
                usagers::birthdate.eq(""),
                usagers::birthplace.eq(""),
                usagers::birthcountry.eq(""),
                usagers::email.eq(""),
                usagers::phone.eq(None::<String>),
                usagers::preferred_username.eq(None::<String>),
                usagers::street_address.eq(None::<String>),
                usagers::postal_code.eq(None::<String>),
                usagers::locality.eq(None::<String>),
                usagers::country.eq(None::<String>),
                usagers::upstream_subject.eq(format!("erased:{usager_id}")),
            ))
            .execute(conn)?;

        let mandates_count: i64 = mandates::table.filter(mandates::usager_id.eq(usager_id)).count().get_result(conn)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::UsagerErased).usager(usager_id).details(serde_json::json!({
                "reason": reason.key(),
                "mandates": mandates_count,
                "mandates_revoked": mandates_revoked.len(),
            })),
            now,
        )?;
        Ok(Erasure::Erased { mandates_revoked })
    })
}

/// Revokes the usager's unrevoked, unexpired mandates and their live authorisations, one
/// `mandate_revoked` entry each (reason `usager_erased`, by the operator).
fn revoke_live_mandates(conn: &mut DbConnection, usager_id: &str, now: NaiveDateTime) -> StoreResult<Vec<String>> {
    let live: Vec<(String, String)> = mandates::table
        .filter(mandates::usager_id.eq(usager_id))
        .filter(mandates::revoked_at.is_null())
        .filter(mandates::expires_at.gt(now))
        .order(mandates::created_at.asc())
        .select((mandates::id, mandates::organisation_id))
        .load(conn)?;
    for (mandate_id, organisation_id) in &live {
        diesel::update(mandates::table.find(mandate_id)).set(mandates::revoked_at.eq(now)).execute(conn)?;
        diesel::update(
            authorisations::table
                .filter(authorisations::mandate_id.eq(mandate_id))
                .filter(authorisations::revoked_at.is_null()),
        )
        .set(authorisations::revoked_at.eq(now))
        .execute(conn)?;
        journal::record(
            conn,
            NewEntry::new(JournalAction::MandateRevoked)
                .organisation(organisation_id)
                .usager(usager_id)
                .mandate(mandate_id)
                .details(serde_json::json!({"reason": "usager_erased", "by": journal::actor(None)})),
            now,
        )?;
    }
    Ok(live.into_iter().map(|(id, _)| id).collect())
}
