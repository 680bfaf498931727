//! One-time enrolment links: a manager (or the operator) issues one for a helper, who opens it
//! to choose a password (if they have none) and enrol an authenticator app. Valid 72 hours,
//! used once, superseded by a newer link; only the SHA-256 of the token is stored, so the link
//! is shown once, to whoever issued it.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::RngCore;

use crate::aidants::{self, Aidant};
use crate::db::{write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::{aidants as aidants_table, enrolment_links};
use crate::second_factors;
use crate::secret_hash;

/// How long a link may be used after it is issued.
pub const LINK_VALIDITY: Duration = Duration::hours(72);

/// A link just issued: the token goes into `/inscription/{token}` and is never stored.
pub struct IssuedLink {
    pub token: String,
    pub expires_at: NaiveDateTime,
}

impl std::fmt::Debug for IssuedLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedLink").field("token", &"<redacted>").field("expires_at", &self.expires_at).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = enrolment_links)]
pub struct EnrolmentLink {
    pub token_hash: String,
    pub aidant_id: String,
    pub created_by_aidant_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// What a token opens.
#[derive(Debug)]
pub enum Lookup {
    /// A link that may be used now, for this helper.
    Valid { link: EnrolmentLink, aidant: Box<Aidant> },
    /// Past its 72 hours, or superseded by a newer link.
    Expired,
    /// Already used to enrol.
    Used,
    /// No such link (mistyped, or never issued).
    Unknown,
}

/// Issues a new link for the helper; older unused links stop working (they are marked as
/// expiring now). `by` is the manager's aidant id, or none for the operator. Journalled
/// `enrolment_link_issued` (never the token).
pub fn issue(
    conn: &mut DbConnection,
    aidant_id: &str,
    by: Option<&str>,
    organisation_id: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<IssuedLink> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let expires_at = now + LINK_VALIDITY;
    write_transaction(conn, |conn| {
        aidants::find(conn, aidant_id)?;
        diesel::update(
            enrolment_links::table
                .filter(enrolment_links::aidant_id.eq(aidant_id))
                .filter(enrolment_links::used_at.is_null())
                .filter(enrolment_links::expires_at.gt(now)),
        )
        .set(enrolment_links::expires_at.eq(now))
        .execute(conn)?;
        diesel::insert_into(enrolment_links::table)
            .values(&EnrolmentLink {
                token_hash: secret_hash(&token),
                aidant_id: aidant_id.to_owned(),
                created_by_aidant_id: by.map(str::to_owned),
                created_at: now,
                expires_at,
                used_at: None,
            })
            .execute(conn)?;
        let mut entry = NewEntry::new(JournalAction::EnrolmentLinkIssued)
            .aidant(aidant_id)
            .details(serde_json::json!({ "by": journal::actor(by), "expires_at": expires_at.and_utc().timestamp() }));
        entry.organisation_id = organisation_id.map(str::to_owned);
        journal::record(conn, entry, now)?;
        Ok(IssuedLink { token: token.clone(), expires_at })
    })
}

/// What `token` opens at `now`.
pub fn lookup(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> StoreResult<Lookup> {
    let link: Option<EnrolmentLink> = enrolment_links::table
        .find(secret_hash(token.trim()))
        .select(EnrolmentLink::as_select())
        .first(conn)
        .optional()?;
    let Some(link) = link else { return Ok(Lookup::Unknown) };
    if link.used_at.is_some() {
        return Ok(Lookup::Used);
    }
    if link.expires_at <= now {
        return Ok(Lookup::Expired);
    }
    let aidant = aidants::find(conn, &link.aidant_id)?;
    Ok(Lookup::Valid { link, aidant: Box::new(aidant) })
}

/// Whether the helper still has to choose a password (an account added by a manager has none;
/// one whose second factors were reset keeps theirs).
pub fn needs_password(aidant: &Aidant) -> bool {
    aidant.password_hash.is_empty()
}

/// Sets the password chosen through a valid link (argon2id hash made by the caller). The link
/// stays usable until the authenticator is confirmed. Returns `false` if the link is no longer
/// valid or the helper already has a password.
pub fn set_password(
    conn: &mut DbConnection,
    token: &str,
    password_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    write_transaction(conn, |conn| {
        let Lookup::Valid { aidant, .. } = lookup(conn, token, now)? else { return Ok(false) };
        let updated = diesel::update(aidants_table::table.find(&aidant.id).filter(aidants_table::password_hash.eq("")))
            .set(aidants_table::password_hash.eq(password_hash))
            .execute(conn)?;
        Ok(updated == 1)
    })
}

/// Completes the enrolment: confirms the helper's pending authenticator `factor_id` with its
/// first code's `step` and spends the link, in one transaction. Returns `false` (and changes
/// nothing) if the link is no longer valid, has no password behind it yet, or the factor is not
/// the helper's pending one. Journalled `enrolment_completed`.
pub fn complete(
    conn: &mut DbConnection,
    token: &str,
    factor_id: &str,
    step: i64,
    now: NaiveDateTime,
) -> StoreResult<bool> {
    write_transaction(conn, |conn| {
        let Lookup::Valid { link, aidant } = lookup(conn, token, now)? else { return Ok(false) };
        if needs_password(&aidant) {
            return Ok(false);
        }
        let factor = second_factors::find_stored(conn, factor_id)?;
        if factor.aidant_id != aidant.id || factor.is_confirmed() {
            return Ok(false);
        }
        if !second_factors::confirm(conn, factor_id, step, now)? {
            return Ok(false);
        }
        let spent =
            diesel::update(enrolment_links::table.find(&link.token_hash).filter(enrolment_links::used_at.is_null()))
                .set(enrolment_links::used_at.eq(Some(now)))
                .execute(conn)?;
        if spent != 1 {
            // Spent by a concurrent request since the lookup: undo the confirmation.
            return Err(StoreError::NotFound("enrolment link"));
        }
        let mut entry = NewEntry::new(JournalAction::EnrolmentCompleted)
            .aidant(&aidant.id)
            .details(serde_json::json!({ "factor": factor.kind }));
        entry.organisation_id = Some(aidant.current_organisation_id.clone());
        journal::record(conn, entry, now)?;
        Ok(true)
    })
}
