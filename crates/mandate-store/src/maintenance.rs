//! What `idp maintenance` does each day: the six-month rule. A helper account with no sign-in
//! for six calendar months (counted from its creation when it never signed in) is deactivated,
//! one journal entry per account, so that an account nobody uses cannot be used by anyone else.

use chrono::{Months, NaiveDateTime};
use diesel::prelude::*;

use crate::aidants::{self, DeactivationReason};
use crate::db::DbConnection;
use crate::error::{StoreError, StoreResult};
use crate::schema::aidants as aidants_table;

/// How long an account may go without a sign-in before it is deactivated.
pub const INACTIVITY_MONTHS: u32 = 6;

/// An active account past the six-month rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InactiveAidant {
    pub aidant_id: String,
    /// Where the helper last worked: the journal entry of the deactivation is that
    /// organisation's, so that its managers read it in their journal.
    pub organisation_id: String,
    pub email: String,
    /// The last sign-in; `None` when the account never signed in.
    pub last_sign_in_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// The instant before which (inclusive) an account's last sign-in makes it inactive at `now`.
pub fn inactivity_cutoff(now: NaiveDateTime) -> StoreResult<NaiveDateTime> {
    now.checked_sub_months(Months::new(INACTIVITY_MONTHS))
        .ok_or_else(|| StoreError::InvalidField { field: "now", reason: "out of range".into() })
}

/// Active accounts whose last sign-in (or creation, when they never signed in) is six months
/// ago or more, oldest first.
pub fn inactive_aidants(conn: &mut DbConnection, now: NaiveDateTime) -> StoreResult<Vec<InactiveAidant>> {
    let cutoff = inactivity_cutoff(now)?;
    let rows: Vec<(String, String, String, Option<NaiveDateTime>, NaiveDateTime)> = aidants_table::table
        .filter(aidants_table::active.eq(true))
        .filter(
            aidants_table::last_sign_in_at
                .le(cutoff)
                .or(aidants_table::last_sign_in_at.is_null().and(aidants_table::created_at.le(cutoff))),
        )
        .order((aidants_table::created_at.asc(), aidants_table::id.asc()))
        .select((
            aidants_table::id,
            aidants_table::current_organisation_id,
            aidants_table::email,
            aidants_table::last_sign_in_at,
            aidants_table::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(aidant_id, organisation_id, email, last_sign_in_at, created_at)| InactiveAidant {
            aidant_id,
            organisation_id,
            email,
            last_sign_in_at,
            created_at,
        })
        .collect())
}

/// Deactivates every account [`inactive_aidants`] finds (reason `inactivity`, by no one: the
/// rule itself), one transaction and one journal entry each. Returns those it deactivated; an
/// account deactivated meanwhile by someone else is left out. Running it again at once finds
/// nothing more to do.
pub fn deactivate_inactive(conn: &mut DbConnection, now: NaiveDateTime) -> StoreResult<Vec<InactiveAidant>> {
    let mut deactivated = Vec::new();
    for inactive in inactive_aidants(conn, now)? {
        if aidants::deactivate(
            conn,
            &inactive.aidant_id,
            DeactivationReason::Inactivity,
            None,
            Some(&inactive.organisation_id),
            now,
        )? {
            deactivated.push(inactive);
        }
    }
    Ok(deactivated)
}
