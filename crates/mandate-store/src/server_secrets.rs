//! Secrets the server makes for itself (the CSRF key): stored so that every replica, and the
//! same server after a restart, uses the same one.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StoreResult;
use crate::schema::server_secrets;

/// The secret called `name`, made with `generate` and stored if there is none yet. When two
/// replicas start at once, both insert; the second insert fails on the primary key and both
/// then read the one that won.
pub fn get_or_create(
    conn: &mut DbConnection,
    name: &str,
    generate: impl FnOnce() -> String,
    now: NaiveDateTime,
) -> StoreResult<String> {
    if let Some(value) = find(conn, name)? {
        return Ok(value);
    }
    let inserted = diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(generate()),
            server_secrets::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e.into()),
    }
    find(conn, name)?.ok_or(crate::StoreError::NotFound("server secret"))
}

/// The secret called `name`, if one was made.
pub fn find(conn: &mut DbConnection, name: &str) -> StoreResult<Option<String>> {
    Ok(server_secrets::table.find(name).select(server_secrets::value).first(conn).optional()?)
}
