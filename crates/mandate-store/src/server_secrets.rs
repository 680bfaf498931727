//! Secrets the server makes for itself (the CSRF key, the pairwise-subject key, the demo
//! upstream provider's signing key): stored so that every replica, and the same server after a
//! restart, uses the same one; sealed for their name (`sealing`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{write_transaction, DbConnection};
use crate::error::StoreResult;
use crate::schema::server_secrets;
use crate::sealing::{self, Reseal, ResealReport, RowIdentity, SealingKeys};

fn row(name: &str) -> RowIdentity<'_> {
    RowIdentity { table: "server_secrets", id: name }
}

/// The secret called `name`, made with `generate` and stored if there is none yet. When two
/// replicas start at once, both insert; the second insert fails on the primary key and both
/// then read the one that won.
pub fn get_or_create(
    conn: &mut DbConnection,
    keys: &dyn SealingKeys,
    name: &str,
    generate: impl FnOnce() -> String,
    now: NaiveDateTime,
) -> StoreResult<String> {
    if let Some(value) = find(conn, keys, name)? {
        return Ok(value);
    }
    let inserted = diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::value.eq(sealing::seal(keys, &generate(), row(name))),
            server_secrets::created_at.eq(now),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => {}
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {}
        Err(e) => return Err(e.into()),
    }
    find(conn, keys, name)?.ok_or(crate::StoreError::NotFound("server secret"))
}

/// The secret called `name`, if one was made.
pub fn find(conn: &mut DbConnection, keys: &dyn SealingKeys, name: &str) -> StoreResult<Option<String>> {
    let stored: Option<String> =
        server_secrets::table.find(name).select(server_secrets::value).first(conn).optional()?;
    stored.map(|value| sealing::open_column(keys, &value, row(name))).transpose()
}

/// Seals again the server's secrets (`sealing::reseal`), in one transaction.
pub(crate) fn reseal(conn: &mut DbConnection, keys: &dyn SealingKeys, what: Reseal) -> StoreResult<ResealReport> {
    write_transaction(conn, |conn| {
        let mut query = server_secrets::table.select((server_secrets::name, server_secrets::value)).into_boxed();
        if what == Reseal::Plaintext {
            query = query.filter(server_secrets::value.not_like(sealing::LIKE_SEALED));
        }
        let rows: Vec<(String, String)> = query.load(conn)?;
        let mut report = ResealReport::default();
        for (name, stored) in rows {
            if let Some(sealed) = sealing::reseal_value(keys, &stored, row(&name), &mut report)? {
                diesel::update(server_secrets::table.find(&name).filter(server_secrets::value.eq(&stored)))
                    .set(server_secrets::value.eq(sealed))
                    .execute(conn)?;
            }
        }
        Ok(report)
    })
}
