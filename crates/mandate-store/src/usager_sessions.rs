//! The usager's browser sessions in their own space (`/espace-usager`), apart from the helpers'
//! sessions: a usager is never a helper, and their session lives much shorter.
//!
//! A session begins *pending* when the usager leaves for the upstream provider (the upstream
//! login's `state` is bound to its `sid`), and is *signed in* once the provider's answer named a
//! known usager: the cookie's secret is then replaced, so that a secret known before is worthless
//! after. The cookie holds the secret; only its hash is stored.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::{new_id, write_transaction, DbConnection};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
use crate::schema::usager_sessions;
use crate::upstream_logins::LOGIN_LIFETIME_MINUTES;

/// After this long without a request the usager signs in again.
pub const IDLE_MINUTES: i64 = 30;
/// After this long the usager signs in again, whatever the activity.
pub const ABSOLUTE_MINUTES: i64 = 120;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = usager_sessions)]
pub struct UsagerSession {
    pub id_hash: String,
    /// Public identifier, which the upstream login under way is bound to.
    pub sid: String,
    /// `None` while the upstream login is under way.
    pub usager_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

impl UsagerSession {
    /// Signed in, not ended, not past its lifetime, not idle past [`IDLE_MINUTES`].
    pub fn is_signed_in(&self, now: NaiveDateTime) -> bool {
        self.usager_id.is_some()
            && self.ended_at.is_none()
            && self.expires_at > now
            && now - self.last_seen_at <= Duration::minutes(IDLE_MINUTES)
    }
}

/// A pending session for a usager leaving for the upstream provider: it lives as long as an
/// upstream login may take.
pub fn begin(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> StoreResult<UsagerSession> {
    let session = UsagerSession {
        id_hash: id_hash.to_owned(),
        sid: new_id(),
        usager_id: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::minutes(LOGIN_LIFETIME_MINUTES),
        ended_at: None,
    };
    diesel::insert_into(usager_sessions::table).values(&session).execute(conn)?;
    Ok(session)
}

/// The session for this cookie hash, if it has neither ended nor expired (pending or signed in).
pub fn find_live(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> StoreResult<Option<UsagerSession>> {
    Ok(usager_sessions::table
        .find(id_hash)
        .filter(usager_sessions::ended_at.is_null())
        .filter(usager_sessions::expires_at.gt(now))
        .select(UsagerSession::as_select())
        .first(conn)
        .optional()?)
}

/// The signed-in session for this cookie hash; activity keeps it from idling out (it is touched).
pub fn find_signed_in(
    conn: &mut DbConnection,
    id_hash: &str,
    now: NaiveDateTime,
) -> StoreResult<Option<UsagerSession>> {
    let Some(session) = find_live(conn, id_hash, now)?.filter(|s| s.is_signed_in(now)) else { return Ok(None) };
    diesel::update(usager_sessions::table.find(id_hash)).set(usager_sessions::last_seen_at.eq(now)).execute(conn)?;
    Ok(Some(UsagerSession { last_seen_at: now, ..session }))
}

/// The pending session `id_hash` becomes the signed-in session of `usager_id` under the new
/// cookie hash `new_id_hash`, journalled (`usager_signed_in`, the usager's id only) in the same
/// transaction.
pub fn sign_in(
    conn: &mut DbConnection,
    id_hash: &str,
    new_id_hash: &str,
    usager_id: &str,
    now: NaiveDateTime,
) -> StoreResult<UsagerSession> {
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            usager_sessions::table
                .find(id_hash)
                .filter(usager_sessions::usager_id.is_null())
                .filter(usager_sessions::ended_at.is_null()),
        )
        .set((
            usager_sessions::id_hash.eq(new_id_hash),
            usager_sessions::usager_id.eq(usager_id),
            usager_sessions::last_seen_at.eq(now),
            usager_sessions::expires_at.eq(now + Duration::minutes(ABSOLUTE_MINUTES)),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(StoreError::NotFound("usager session"));
        }
        journal::record(conn, NewEntry::new(JournalAction::UsagerSignedIn).usager(usager_id), now)?;
        Ok(usager_sessions::table.find(new_id_hash).select(UsagerSession::as_select()).first(conn)?)
    })
}

/// Ends the session (sign-out, or an upstream login that named nobody to sign in).
pub fn end(conn: &mut DbConnection, id_hash: &str, now: NaiveDateTime) -> StoreResult<()> {
    diesel::update(usager_sessions::table.find(id_hash).filter(usager_sessions::ended_at.is_null()))
        .set(usager_sessions::ended_at.eq(now))
        .execute(conn)?;
    Ok(())
}
