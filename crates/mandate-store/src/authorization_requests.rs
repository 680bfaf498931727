//! Authorization requests waiting for the helper (login, choice of usager and démarche),
//! kept in the database so any replica can serve the next step.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::domain::Demarche;
use crate::error::{StoreError, StoreResult};
use crate::schema::authorization_requests;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_requests)]
pub struct PendingAuthorization {
    pub id: String,
    /// The browser session it belongs to: another browser cannot continue it.
    pub session_sid: String,
    pub client_id: String,
    /// The validated request, as JSON (the server's own format).
    pub params: String,
    pub usager_id: Option<String>,
    pub demarche: Option<Demarche>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn create(conn: &mut DbConnection, pending: &PendingAuthorization) -> StoreResult<()> {
    diesel::insert_into(authorization_requests::table).values(pending).execute(conn)?;
    Ok(())
}

/// The pending request `id` of this browser session, unless it expired.
pub fn find(
    conn: &mut DbConnection,
    id: &str,
    session_sid: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<PendingAuthorization>> {
    Ok(authorization_requests::table
        .find(id)
        .filter(authorization_requests::session_sid.eq(session_sid))
        .filter(authorization_requests::expires_at.gt(now))
        .select(PendingAuthorization::as_select())
        .first(conn)
        .optional()?)
}

pub fn choose_usager(conn: &mut DbConnection, id: &str, usager_id: &str) -> StoreResult<()> {
    let n = diesel::update(authorization_requests::table.find(id))
        .set((authorization_requests::usager_id.eq(usager_id), authorization_requests::demarche.eq(None::<Demarche>)))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("authorization request"));
    }
    Ok(())
}

/// Forgets the choices made (the helper switched organisation).
pub fn reset_choice(conn: &mut DbConnection, id: &str) -> StoreResult<()> {
    diesel::update(authorization_requests::table.find(id))
        .set((
            authorization_requests::usager_id.eq(None::<String>),
            authorization_requests::demarche.eq(None::<Demarche>),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn choose_demarche(conn: &mut DbConnection, id: &str, demarche: Demarche) -> StoreResult<()> {
    let n = diesel::update(authorization_requests::table.find(id))
        .set(authorization_requests::demarche.eq(demarche))
        .execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("authorization request"));
    }
    Ok(())
}

/// The request was answered (code issued or error returned): it cannot be continued.
/// Ends a pending request once it is answered; false when it was already gone (answered by a
/// concurrent submit, or expired and purged), so that one request yields at most one code.
pub fn delete(conn: &mut DbConnection, id: &str) -> StoreResult<bool> {
    Ok(diesel::delete(authorization_requests::table.find(id)).execute(conn)? == 1)
}

/// Removes expired requests; returns how many.
pub fn purge_expired(conn: &mut DbConnection, now: NaiveDateTime) -> StoreResult<usize> {
    Ok(diesel::delete(authorization_requests::table.filter(authorization_requests::expires_at.le(now)))
        .execute(conn)?)
}
