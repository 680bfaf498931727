//! A mandate being prepared by a helper in one browser session (the new-mandate wizard):
//! démarches, then duration, then the usager once their identity came back verified from
//! upstream. Nothing of it is a mandate until the usager consents; a draft lives one hour.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::clients::DemarcheList;
use crate::db::{new_id, DbConnection};
use crate::domain::{demarche_set, Demarche, DurationKind};
use crate::error::{StoreError, StoreResult};
use crate::schema::mandate_drafts;

/// How long a helper has to finish the wizard.
pub const DRAFT_LIFETIME_MINUTES: i64 = 60;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = mandate_drafts)]
pub struct MandateDraft {
    pub id: String,
    pub session_sid: String,
    pub aidant_id: String,
    pub organisation_id: String,
    pub demarches: DemarcheList,
    pub duration_kind: Option<DurationKind>,
    pub usager_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl MandateDraft {
    pub fn demarches(&self) -> &[Demarche] {
        &self.demarches.0
    }
}

/// Starts a draft with the chosen démarches.
pub fn create(
    conn: &mut DbConnection,
    session_sid: &str,
    aidant_id: &str,
    organisation_id: &str,
    demarches: Vec<Demarche>,
    now: NaiveDateTime,
) -> StoreResult<MandateDraft> {
    let demarches = demarche_set(demarches)?;
    let draft = MandateDraft {
        id: new_id(),
        session_sid: session_sid.to_owned(),
        aidant_id: aidant_id.to_owned(),
        organisation_id: organisation_id.to_owned(),
        demarches: DemarcheList(demarches),
        duration_kind: None,
        usager_id: None,
        created_at: now,
        expires_at: now + Duration::minutes(DRAFT_LIFETIME_MINUTES),
    };
    diesel::insert_into(mandate_drafts::table).values(&draft).execute(conn)?;
    Ok(draft)
}

/// The draft `id` of this browser session, if it has not expired.
pub fn find(
    conn: &mut DbConnection,
    id: &str,
    session_sid: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<MandateDraft>> {
    Ok(mandate_drafts::table
        .find(id)
        .filter(mandate_drafts::session_sid.eq(session_sid))
        .filter(mandate_drafts::expires_at.gt(now))
        .select(MandateDraft::as_select())
        .first(conn)
        .optional()?)
}

pub fn set_demarches(conn: &mut DbConnection, id: &str, demarches: Vec<Demarche>) -> StoreResult<()> {
    let demarches = demarche_set(demarches)?;
    diesel::update(mandate_drafts::table.find(id))
        .set(mandate_drafts::demarches.eq(DemarcheList(demarches)))
        .execute(conn)?;
    Ok(())
}

pub fn set_duration(conn: &mut DbConnection, id: &str, duration: DurationKind) -> StoreResult<()> {
    if duration == DurationKind::Custom {
        return Err(StoreError::InvalidField { field: "duration", reason: "choose a standard duration".into() });
    }
    diesel::update(mandate_drafts::table.find(id))
        .set(mandate_drafts::duration_kind.eq(Some(duration)))
        .execute(conn)?;
    Ok(())
}

pub fn set_usager(conn: &mut DbConnection, id: &str, usager_id: &str) -> StoreResult<()> {
    diesel::update(mandate_drafts::table.find(id)).set(mandate_drafts::usager_id.eq(Some(usager_id))).execute(conn)?;
    Ok(())
}

/// Ends a draft (the mandate is being created, or the helper gave up); `false` when it was
/// already gone, so that of two submissions of one draft only one goes on.
pub fn delete(conn: &mut DbConnection, id: &str) -> StoreResult<bool> {
    Ok(diesel::delete(mandate_drafts::table.find(id)).execute(conn)? == 1)
}
