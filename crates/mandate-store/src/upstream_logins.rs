//! Upstream logins under way (the usager proving who they are at FranceConnect or the demo
//! upstream): what the callback must check, kept server-side and keyed by the hash of `state`.
//! A login is taken (deleted) once, by the callback of the browser session that began it.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::DbConnection;
use crate::error::StoreResult;
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::upstream_logins;
use crate::secret_hash;

/// How long the usager has to log in upstream.
pub const LOGIN_LIFETIME_MINUTES: i64 = 15;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = upstream_logins)]
pub struct UpstreamLogin {
    pub state_hash: String,
    pub session_sid: String,
    /// The mandate draft the verified usager goes into.
    pub draft_id: Option<String>,
    pub nonce: String,
    pub code_verifier: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// What a new login records; `state` is stored hashed.
pub struct NewUpstreamLogin<'a> {
    pub state: &'a str,
    pub session_sid: &'a str,
    pub draft_id: Option<&'a str>,
    pub nonce: &'a str,
    pub code_verifier: &'a str,
}

pub fn begin(conn: &mut DbConnection, new: NewUpstreamLogin<'_>, now: NaiveDateTime) -> StoreResult<()> {
    let login = UpstreamLogin {
        state_hash: secret_hash(new.state),
        session_sid: new.session_sid.to_owned(),
        draft_id: new.draft_id.map(str::to_owned),
        nonce: new.nonce.to_owned(),
        code_verifier: new.code_verifier.to_owned(),
        created_at: now,
        expires_at: now + Duration::minutes(LOGIN_LIFETIME_MINUTES),
    };
    diesel::insert_into(upstream_logins::table).values(&login).execute(conn)?;
    Ok(())
}

/// Takes the login that `state` names, if it belongs to this browser session and has not
/// expired; it is deleted either way, so a `state` works once. `None` for an unknown `state`.
pub fn take(
    conn: &mut DbConnection,
    state: &str,
    session_sid: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<UpstreamLogin>> {
    let hash = secret_hash(state);
    crate::db::write_transaction(conn, |conn| {
        let found = upstream_logins::table.find(&hash).select(UpstreamLogin::as_select()).first(conn).optional()?;
        if found.is_some() {
            diesel::delete(upstream_logins::table.find(&hash)).execute(conn)?;
        }
        Ok(found.filter(|l| l.session_sid == session_sid && l.expires_at > now))
    })
}

/// Why an upstream login failed, as the journal records it (no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// `state` missing, unknown, expired or from another browser session.
    StateMismatch,
    /// The usager (or the provider) refused: `error=access_denied` and the like.
    Refused,
    /// The ID token's `nonce` is not the one sent.
    NonceMismatch,
    /// The ID token failed verification: signature, unknown `kid`, `iss`, `aud`, `exp`, `acr`.
    InvalidIdToken,
    /// The provider could not be reached, answered too slowly or answered nonsense.
    Unavailable,
    /// The identity it sent is not usable (a missing or malformed claim).
    InvalidIdentity,
}

impl FailureReason {
    pub fn key(self) -> &'static str {
        match self {
            FailureReason::StateMismatch => "state_mismatch",
            FailureReason::Refused => "refused",
            FailureReason::NonceMismatch => "nonce_mismatch",
            FailureReason::InvalidIdToken => "invalid_id_token",
            FailureReason::Unavailable => "unavailable",
            FailureReason::InvalidIdentity => "invalid_identity",
        }
    }
}

/// Journals a failed upstream login: who tried, where, and why (ids and a reason only).
pub fn record_failure(
    conn: &mut DbConnection,
    aidant_id: Option<&str>,
    organisation_id: Option<&str>,
    reason: FailureReason,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let mut entry =
        NewEntry::new(JournalAction::UpstreamLoginFailed).details(serde_json::json!({"reason": reason.key()}));
    if let Some(id) = aidant_id {
        entry = entry.aidant(id);
    }
    if let Some(id) = organisation_id {
        entry = entry.organisation(id);
    }
    journal::record(conn, entry, now)?;
    Ok(())
}

/// Journals a failed sign-in of a usager to their own space: the reason only, and `by: usager`
/// (nobody is known yet, and no helper took part).
pub fn record_usager_space_failure(
    conn: &mut DbConnection,
    reason: FailureReason,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let details = serde_json::json!({"reason": reason.key(), "by": "usager"});
    journal::record(conn, NewEntry::new(JournalAction::UpstreamLoginFailed).details(details), now)?;
    Ok(())
}
