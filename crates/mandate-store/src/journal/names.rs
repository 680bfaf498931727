//! The names behind a journal's ids, read at display from the tables that hold them (the journal
//! itself holds none): the helpers and usagers of an organisation, for a page's filters, and the
//! names of the ids a page of entries mentions. An id whose person was erased (`erasure`: the row
//! stays, emptied) has no name.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConnection;
use crate::error::StoreResult;
use crate::schema::{aidant_organisations, aidants, clients, mandates, usagers};

/// Someone named by id: a helper or a usager, as pages write them (`Camille Martin`,
/// `Angela Claire Louise DUBOIS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
}

fn named(rows: Vec<(String, String, String)>) -> Vec<Named> {
    rows.into_iter().map(|(id, given, family)| Named { id, name: format!("{given} {family}") }).collect()
}

/// The organisation's helpers (members now), by family name then given name.
pub fn helpers_of(conn: &mut DbConnection, organisation_id: &str) -> StoreResult<Vec<Named>> {
    let rows = aidants::table
        .inner_join(aidant_organisations::table)
        .filter(aidant_organisations::organisation_id.eq(organisation_id))
        .order((aidants::family_name.asc(), aidants::given_name.asc(), aidants::id.asc()))
        .select((aidants::id, aidants::given_name, aidants::family_name))
        .load(conn)?;
    Ok(named(rows))
}

/// The usagers who hold or held a mandate with the organisation, by family name then given name.
pub fn usagers_of(conn: &mut DbConnection, organisation_id: &str) -> StoreResult<Vec<Named>> {
    let rows =
        usagers::table
            .filter(usagers::erased_at.is_null())
            .filter(usagers::id.eq_any(
                mandates::table.filter(mandates::organisation_id.eq(organisation_id)).select(mandates::usager_id),
            ))
            .order((usagers::family_name.asc(), usagers::given_name.asc(), usagers::id.asc()))
            .select((usagers::id, usagers::given_name, usagers::family_name))
            .load(conn)?;
    Ok(named(rows))
}

/// Names by id, for the ids a page of entries mentions.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub aidants: HashMap<String, String>,
    pub usagers: HashMap<String, String>,
    /// Relying parties (the services) by client id.
    pub clients: HashMap<String, String>,
}

/// The names of these helpers, usagers and services, where their rows still exist.
pub fn names(
    conn: &mut DbConnection,
    aidant_ids: &[String],
    usager_ids: &[String],
    client_ids: &[String],
) -> StoreResult<Names> {
    let mut found = Names::default();
    if !aidant_ids.is_empty() {
        let rows: Vec<(String, String, String)> = aidants::table
            .filter(aidants::id.eq_any(aidant_ids))
            .select((aidants::id, aidants::given_name, aidants::family_name))
            .load(conn)?;
        found.aidants = named(rows).into_iter().map(|n| (n.id, n.name)).collect();
    }
    if !usager_ids.is_empty() {
        let rows: Vec<(String, String, String)> = usagers::table
            .filter(usagers::id.eq_any(usager_ids))
            .filter(usagers::erased_at.is_null())
            .select((usagers::id, usagers::given_name, usagers::family_name))
            .load(conn)?;
        found.usagers = named(rows).into_iter().map(|n| (n.id, n.name)).collect();
    }
    if !client_ids.is_empty() {
        found.clients = clients::table
            .filter(clients::id.eq_any(client_ids))
            .select((clients::id, clients::name))
            .load::<(String, String)>(conn)?
            .into_iter()
            .collect();
    }
    Ok(found)
}
