//! Browser sessions with the provider, stored server-side so any replica serves any step.
//! The cookie holds a random secret; only its hash is stored. A session is stored from the
//! moment a helper's password is accepted ([`begin_with_password`]): a browser that has not
//! signed in is known by its cookie alone.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{new_id, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::schema::sessions;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    /// Public identifier, the `sid` claim.
    pub sid: String,
    pub aidant_id: Option<String>,
    pub organisation_id: Option<String>,
    pub password_verified_at: Option<NaiveDateTime>,
    /// When password and second factor were last both given (the `auth_time` claim).
    pub authenticated_at: Option<NaiveDateTime>,
    /// When the second factor was last given (idle re-check).
    pub second_factor_at: Option<NaiveDateTime>,
    pub last_seen_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

impl Session {
    /// Neither ended nor past its lifetime.
    pub fn is_live(&self, now: NaiveDateTime) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }

    /// The helper logged in with both factors, and the session is neither idle past
    /// `idle` nor past its absolute lifetime.
    pub fn is_authenticated(&self, now: NaiveDateTime, idle: Duration) -> bool {
        self.aidant_id.is_some()
            && self.authenticated_at.is_some()
            && self.second_factor_at.is_some_and(|t| now - t <= idle)
            && now - self.last_seen_at <= idle
            && self.expires_at > now
            && self.ended_at.is_none()
    }
}

pub fn create(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime, lifetime: Duration) -> StoreResult<Session> {
    let session = Session {
        id_hash: id_hash.to_owned(),
        sid: new_id(),
        aidant_id: None,
        organisation_id: None,
        password_verified_at: None,
        authenticated_at: None,
        second_factor_at: None,
        last_seen_at: now,
        created_at: now,
        expires_at: now + lifetime,
        ended_at: None,
    };
    diesel::insert_into(sessions::table).values(&session).execute(conn)?;
    Ok(session)
}

/// The session begins with the helper's password, in a browser the store held none for: stored
/// now, the helper's, awaiting the second factor, for `lifetime`. `sid` is the one the browser
/// went by until now (pending authorization requests are bound to it). A second submission of
/// the same browser at the same moment finds the row written and records the password on it.
pub fn begin_with_password(
    conn: &mut DbConnection,
    id_hash: &str,
    sid: &str,
    aidant_id: &str,
    organisation_id: &str,
    now: NaiveDateTime,
    lifetime: Duration,
) -> StoreResult<()> {
    let session = Session {
        id_hash: id_hash.to_owned(),
        sid: sid.to_owned(),
        aidant_id: Some(aidant_id.to_owned()),
        organisation_id: Some(organisation_id.to_owned()),
        password_verified_at: Some(now),
        authenticated_at: None,
        second_factor_at: None,
        last_seen_at: now,
        created_at: now,
        expires_at: now + lifetime,
        ended_at: None,
    };
    match diesel::insert_into(sessions::table).values(&session).execute(conn) {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            password_verified(conn, id_hash, aidant_id, organisation_id, now)
        }
        Err(e) => Err(e.into()),
    }
}

/// The session for this cookie hash, whatever its state (ended and expired ones included).
pub fn find(conn: &mut DbConnection, id_hash: &str) -> StoreResult<Option<Session>> {
    Ok(sessions::table.find(id_hash).select(Session::as_select()).first(conn).optional()?)
}

/// The session for this cookie hash, if it has not ended or expired.
pub fn find_live(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> StoreResult<Option<Session>> {
    Ok(sessions::table
        .find(id_hash)
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(Session::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_sid(conn: &mut DbConnection, sid: &str) -> StoreResult<Option<Session>> {
    Ok(sessions::table.filter(sessions::sid.eq(sid)).select(Session::as_select()).first(conn).optional()?)
}

fn update_one<T>(conn: &mut DbConnection, id_hash: &str, changes: T) -> StoreResult<()>
where
    T: diesel::AsChangeset<Target = sessions::table>,
    T::Changeset: diesel::query_builder::QueryFragment<<DbConnection as diesel::Connection>::Backend>,
{
    let n = diesel::update(sessions::table.find(id_hash)).set(changes).execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound("session"));
    }
    Ok(())
}

/// First factor given: the session now belongs to this aidant, awaiting the second factor.
/// Any earlier authentication is cleared (a new login starts from scratch).
pub fn password_verified(
    conn: &mut DbConnection,
    id_hash: &str,
    aidant_id: &str,
    organisation_id: &str,
    now: NaiveDateTime,
) -> StoreResult<()> {
    update_one(
        conn,
        id_hash,
        (
            sessions::aidant_id.eq(aidant_id),
            sessions::organisation_id.eq(organisation_id),
            sessions::password_verified_at.eq(now),
            sessions::authenticated_at.eq(None::<NaiveDateTime>),
            sessions::second_factor_at.eq(None::<NaiveDateTime>),
            sessions::last_seen_at.eq(now),
        ),
    )
}

/// Second factor given. `full_login` when it completes a password login (sets auth_time);
/// otherwise it is the idle re-check. The cookie secret is replaced (`new_id_hash`) so that a
/// session id known before login is worthless after it.
pub fn second_factor_verified(
    conn: &mut DbConnection,
    id_hash: &str,
    new_id_hash: &str,
    full_login: bool,
    now: NaiveDateTime,
) -> StoreResult<()> {
    if full_login {
        update_one(
            conn,
            id_hash,
            (
                sessions::id_hash.eq(new_id_hash),
                sessions::authenticated_at.eq(now),
                sessions::second_factor_at.eq(now),
                sessions::last_seen_at.eq(now),
            ),
        )
    } else {
        update_one(
            conn,
            id_hash,
            (sessions::id_hash.eq(new_id_hash), sessions::second_factor_at.eq(now), sessions::last_seen_at.eq(now)),
        )
    }
}

/// Forgets the authentication (prompt=login, max_age exceeded): the helper logs in again.
pub fn require_login(conn: &mut DbConnection, id_hash: &str) -> StoreResult<()> {
    update_one(
        conn,
        id_hash,
        (
            sessions::password_verified_at.eq(None::<NaiveDateTime>),
            sessions::authenticated_at.eq(None::<NaiveDateTime>),
            sessions::second_factor_at.eq(None::<NaiveDateTime>),
        ),
    )
}

pub fn touch(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> StoreResult<()> {
    update_one(conn, id_hash, sessions::last_seen_at.eq(now))
}

pub fn switch_organisation(conn: &mut DbConnection, id_hash: &str, organisation_id: &str) -> StoreResult<()> {
    update_one(conn, id_hash, sessions::organisation_id.eq(organisation_id))
}

pub fn end(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> StoreResult<()> {
    update_one(conn, id_hash, sessions::ended_at.eq(now))
}
