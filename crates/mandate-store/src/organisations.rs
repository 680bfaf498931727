//! Organisations (structures): they own mandates and employ aidants. Each has a type, an INSEE
//! department (its region follows) and the démarches its helpers may offer.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::{new_id, write_transaction, DbConnection};
use crate::domain::{demarche_set, Demarche, DemarcheList, Department, OrganisationType, Siret};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, JournalAction, NewEntry};
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
    /// The region's name, as the public statistics show it (derived from the department).
    pub region: String,
    pub created_at: NaiveDateTime,
    pub organisation_type: OrganisationType,
    /// INSEE codes; empty for an organisation registered before they were recorded.
    pub department_code: String,
    pub region_code: String,
    pub demarches: DemarcheList,
}

impl Organisation {
    /// The démarches its helpers may offer, in the usual order.
    pub fn demarches(&self) -> &[Demarche] {
        &self.demarches.0
    }

    pub fn offers(&self, demarche: Demarche) -> bool {
        self.demarches.0.contains(&demarche)
    }
}

#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub name: String,
    pub siret: Siret,
    pub address: String,
    pub postcode: String,
    pub city: String,
    pub organisation_type: OrganisationType,
    /// The region is derived from it.
    pub department: Department,
    /// At least one.
    pub demarches: Vec<Demarche>,
}

/// What an update changes; `None` leaves a field as it is. The SIRET names the organisation
/// and is not changed here.
#[derive(Debug, Clone, Default)]
pub struct OrganisationUpdate {
    pub name: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub organisation_type: Option<OrganisationType>,
    pub department: Option<Department>,
    pub demarches: Option<Vec<Demarche>>,
}

pub(crate) fn require_text(field: &'static str, value: &str) -> StoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        Err(StoreError::InvalidField { field, reason: "must not be empty".into() })
    } else {
        Ok(value.to_owned())
    }
}

fn postcode(value: &str) -> StoreResult<String> {
    let postcode = value.trim().to_owned();
    if postcode.len() != 5 || !postcode.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StoreError::InvalidField { field: "postcode", reason: "expected 5 digits".into() });
    }
    Ok(postcode)
}

/// Registers an organisation (journalled `organisation_created`). A SIRET names one
/// organisation: a second one with the same SIRET is refused, naming the first (a unique index
/// backs this rule for every writer).
pub fn create(conn: &mut DbConnection, new: NewOrganisation, now: NaiveDateTime) -> StoreResult<Organisation> {
    let region = new.department.region();
    let organisation = Organisation {
        id: new_id(),
        name: require_text("name", &new.name)?,
        siret: new.siret.as_str().to_owned(),
        address: require_text("address", &new.address)?,
        postcode: postcode(&new.postcode)?,
        city: require_text("city", &new.city)?,
        region: region.name.to_owned(),
        created_at: now,
        organisation_type: new.organisation_type,
        department_code: new.department.code().to_owned(),
        region_code: region.code.to_owned(),
        demarches: DemarcheList(demarche_set(new.demarches)?),
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
        let entry = NewEntry::new(JournalAction::OrganisationCreated).organisation(&organisation.id).details(
            serde_json::json!({ "type": organisation.organisation_type.key(), "department": organisation.department_code }),
        );
        journal::record(conn, entry, now)?;
        Ok(organisation)
    })
}

/// Changes what `update` gives, by a manager (`by`, their aidant id) or the operator (`None`).
/// Journalled `organisation_updated` with the names of the fields that changed (not their
/// values); an update that changes nothing writes nothing and returns the organisation as it is.
pub fn update(
    conn: &mut DbConnection,
    id: &str,
    update: OrganisationUpdate,
    by: Option<&str>,
    now: NaiveDateTime,
) -> StoreResult<Organisation> {
    let name = update.name.as_deref().map(|v| require_text("name", v)).transpose()?;
    let address = update.address.as_deref().map(|v| require_text("address", v)).transpose()?;
    let postcode = update.postcode.as_deref().map(postcode).transpose()?;
    let city = update.city.as_deref().map(|v| require_text("city", v)).transpose()?;
    let demarches = update.demarches.map(demarche_set).transpose()?;
    write_transaction(conn, |conn| {
        let before = find(conn, id)?;
        let mut after = before.clone();
        let mut changed: Vec<&'static str> = Vec::new();
        let mut set = |field: &'static str, differs: bool| {
            if differs {
                changed.push(field);
            }
        };
        if let Some(name) = &name {
            set("name", *name != before.name);
            after.name.clone_from(name);
        }
        if let Some(address) = &address {
            set("address", *address != before.address);
            after.address.clone_from(address);
        }
        if let Some(postcode) = &postcode {
            set("postcode", *postcode != before.postcode);
            after.postcode.clone_from(postcode);
        }
        if let Some(city) = &city {
            set("city", *city != before.city);
            after.city.clone_from(city);
        }
        if let Some(kind) = update.organisation_type {
            set("organisation_type", kind != before.organisation_type);
            after.organisation_type = kind;
        }
        if let Some(department) = update.department {
            set("department", department.code() != before.department_code);
            after.department_code = department.code().to_owned();
            after.region_code = department.region().code.to_owned();
            after.region = department.region().name.to_owned();
        }
        if let Some(demarches) = &demarches {
            set("demarches", *demarches != before.demarches.0);
            after.demarches = DemarcheList(demarches.clone());
        }
        if changed.is_empty() {
            return Ok(before);
        }
        diesel::update(organisations::table.find(id))
            .set((
                organisations::name.eq(&after.name),
                organisations::address.eq(&after.address),
                organisations::postcode.eq(&after.postcode),
                organisations::city.eq(&after.city),
                organisations::organisation_type.eq(after.organisation_type),
                organisations::department_code.eq(&after.department_code),
                organisations::region_code.eq(&after.region_code),
                organisations::region.eq(&after.region),
                organisations::demarches.eq(&after.demarches),
            ))
            .execute(conn)?;
        let entry = NewEntry::new(JournalAction::OrganisationUpdated)
            .organisation(id)
            .details(serde_json::json!({ "fields": changed, "by": by.unwrap_or("operator") }));
        journal::record(conn, entry, now)?;
        Ok(after)
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
