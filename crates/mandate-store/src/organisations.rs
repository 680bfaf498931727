//! Organisations (structures): they own mandates and employ aidants.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::Siret;
use crate::error::{StoreError, StoreResult};
use crate::schema::organisations;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub siret: String,
    pub address: String,
    pub postcode: String,
    pub city: String,
    pub region: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub name: String,
    pub siret: Siret,
    pub address: String,
    pub postcode: String,
    pub city: String,
    pub region: String,
}

pub(crate) fn require_text(field: &'static str, value: &str) -> StoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        Err(StoreError::InvalidField { field, reason: "must not be empty".into() })
    } else {
        Ok(value.to_owned())
    }
}

/// Registers an organisation. A SIRET names one organisation: a second one with the same SIRET
/// is refused, naming the first (a unique index backs this rule for every writer).
pub fn create(conn: &mut DbConnection, new: NewOrganisation, now: NaiveDateTime) -> StoreResult<Organisation> {
    let postcode = new.postcode.trim().to_owned();
    if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StoreError::InvalidField { field: "postcode", reason: "expected 5 digits".into() });
    }
    let organisation = Organisation {
        id: new_id(),
        name: require_text("name", &new.name)?,
        siret: new.siret.as_str().to_owned(),
        address: require_text("address", &new.address)?,
        postcode,
        city: require_text("city", &new.city)?,
        region: require_text("region", &new.region)?,
        created_at: now,
    };
    write_transaction(conn, |conn| {
        if let Some(existing) = find_by_siret(conn, &new.siret)? {
            return Err(StoreError::DuplicateSiret {
                siret: existing.siret,
                existing_id: existing.id,
                existing_name: existing.name,
            });
        }
        diesel::insert_into(organisations::table).values(&organisation).execute(conn)?;
        Ok(organisation)
    })
}

pub fn find(conn: &mut DbConnection, id: &str) -> StoreResult<Organisation> {
    organisations::table
        .find(id)
        .select(Organisation::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound("organisation"))
}

pub fn find_by_siret(conn: &mut DbConnection, siret: &Siret) -> StoreResult<Option<Organisation>> {
    Ok(organisations::table
        .filter(organisations::siret.eq(siret.as_str()))
        .select(Organisation::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> StoreResult<Vec<Organisation>> {
    Ok(organisations::table.order(organisations::name.asc()).select(Organisation::as_select()).load(conn)?)
}
